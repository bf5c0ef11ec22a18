//! The request-rules check itself: requests AWS refuses are named with
//! their operation, parameter and rule; requests AWS takes pass. Each
//! request here is written as the SDK puts it on the wire.

mod common;

use common::request_rules::{HttpRequest, RequestRules};

fn rules() -> RequestRules {
    RequestRules::from_emulator().expect("botocore beside the emulator (scripts/install-moto)")
}

fn signed(service: &str) -> (String, String) {
    (
        "Authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential=test/20261130/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
        ),
    )
}

fn query(service: &str, body: &str) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        target: "/".into(),
        headers: vec![signed(service)],
        body: body.as_bytes().to_vec(),
    }
}

fn json(service: &str, target: &str, body: serde_json::Value) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        target: "/".into(),
        headers: vec![signed(service), ("X-Amz-Target".into(), target.into())],
        body: body.to_string().into_bytes(),
    }
}

fn broken(rules: &RequestRules, req: &HttpRequest) -> Vec<String> {
    let checked = rules.check(req);
    assert!(checked.operation.is_some(), "the request was not recognised");
    checked.violations.iter().map(|v| v.to_string()).collect()
}

#[test]
fn a_tag_value_iam_refuses_is_named() {
    let r = rules();
    let req = query(
        "iam",
        "Action=CreateRole&Version=2010-05-08&RoleName=web&AssumeRolePolicyDocument=%7B%7D\
         &Tags.member.1.Key=ecspoc%3Aaddress&Tags.member.1.Value=aws_iam_role.web%5B0%5D",
    );
    assert_eq!(
        broken(&r, &req),
        vec![
            r#"iam CreateRole: Tags[0].Value: "aws_iam_role.web[0]" does not match the pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*"#
        ]
    );
    let fine = query(
        "iam",
        "Action=CreateRole&Version=2010-05-08&RoleName=web&AssumeRolePolicyDocument=%7B%7D\
         &Tags.member.1.Key=ecspoc%3Aaddress&Tags.member.1.Value=aws_iam_role.web",
    );
    assert_eq!(broken(&r, &fine), Vec::<String>::new());
}

#[test]
fn an_over_long_name_and_a_missing_member_are_named() {
    let r = rules();
    let long = "g".repeat(513);
    let req = json("logs", "Logs_20140328.CreateLogGroup", serde_json::json!({ "logGroupName": long }));
    assert_eq!(broken(&r, &req), vec!["logs CreateLogGroup: logGroupName: 513 characters, allowed 1..=512"]);
    let req = json("logs", "Logs_20140328.PutRetentionPolicy", serde_json::json!({ "logGroupName": "g" }));
    assert_eq!(broken(&r, &req), vec!["logs PutRetentionPolicy: retentionInDays: is required"]);
}

#[test]
fn a_value_outside_an_enum_is_named() {
    let r = rules();
    let req = query(
        "elasticloadbalancing",
        "Action=CreateTargetGroup&Version=2015-12-01&Name=web&Protocol=HTTPX&Port=80&VpcId=vpc-1",
    );
    let found = broken(&r, &req);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(r#"elbv2 CreateTargetGroup: Protocol: "HTTPX" is not one of [HTTP, HTTPS,"#),
        "{found:?}"
    );
    let req = query(
        "elasticloadbalancing",
        "Action=CreateTargetGroup&Version=2015-12-01&Name=web&Protocol=HTTP&Port=70000&VpcId=vpc-1",
    );
    assert_eq!(broken(&r, &req), vec!["elbv2 CreateTargetGroup: Port: 70000 is outside 1..=65535"]);
}

#[test]
fn ec2_lists_and_maps_of_the_query_protocols_are_read_back() {
    let r = rules();
    // EC2 flattens lists and names members by their capitalised locationName.
    let req = query("ec2", "Action=CreateTags&Version=2016-11-15&ResourceId.1=vpc-1&Tag.1.Key=Name&Tag.1.Value=x");
    assert_eq!(broken(&r, &req), Vec::<String>::new());
    let req = query("ec2", "Action=CreateTags&Version=2016-11-15&Tag.1.Key=Name&Tag.1.Value=x");
    assert_eq!(broken(&r, &req), vec!["ec2 CreateTags: Resources: is required"]);
    // SNS attribute maps: Attributes.entry.N.key/value.
    let req = query(
        "sns",
        "Action=CreateTopic&Version=2010-03-31&Name=a%20b&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=x",
    );
    let checked = r.check(&req);
    assert_eq!(checked.operation.as_deref(), Some("CreateTopic"));
    assert_eq!(checked.violations, vec![]);
}

#[test]
fn rest_requests_find_their_operation_and_retries_are_counted() {
    let r = rules();
    let mut req = HttpRequest {
        method: "PUT".into(),
        target: "/my-bucket?versioning".into(),
        headers: vec![signed("s3"), ("amz-sdk-request".into(), "attempt=2; max=3".into())],
        body: Vec::new(),
    };
    let checked = r.check(&req);
    assert_eq!(checked.operation.as_deref(), Some("PutBucketVersioning"));
    assert_eq!(checked.attempt, 2);
    assert_eq!(
        checked.violations.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
        vec!["s3 PutBucketVersioning: VersioningConfiguration: is required"],
        "a body-less request lacks its payload",
    );
    req.body = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>".to_vec();
    assert_eq!(r.check(&req).violations, vec![]);
    req.target = "/my-bucket".into();
    req.method = "HEAD".into();
    assert_eq!(r.check(&req).operation.as_deref(), Some("HeadBucket"));
}

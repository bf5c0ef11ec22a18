//! AWS partitions: the standard one, China, GovCloud and the isolated ones
//! each have their own ARN prefix and DNS suffix, decided by the region.

pub struct Partition {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...: the second field of every ARN.
    pub id: &'static str,
    pub dns_suffix: &'static str,
    pub reverse_dns_prefix: &'static str,
}

const PARTITIONS: &[(&str, Partition)] = &[
    ("cn-", Partition { id: "aws-cn", dns_suffix: "amazonaws.com.cn", reverse_dns_prefix: "cn.com.amazonaws" }),
    ("us-gov-", Partition { id: "aws-us-gov", dns_suffix: "amazonaws.com", reverse_dns_prefix: "com.amazonaws" }),
    ("us-isob-", Partition { id: "aws-iso-b", dns_suffix: "sc2s.sgov.gov", reverse_dns_prefix: "gov.sgov.sc2s" }),
    ("us-iso-", Partition { id: "aws-iso", dns_suffix: "c2s.ic.gov", reverse_dns_prefix: "gov.ic.c2s" }),
    ("eu-isoe-", Partition { id: "aws-iso-e", dns_suffix: "cloud.adc-e.uk", reverse_dns_prefix: "uk.adc-e.cloud" }),
    ("us-isof-", Partition { id: "aws-iso-f", dns_suffix: "csp.hci.ic.gov", reverse_dns_prefix: "gov.ic.hci.csp" }),
];

const STANDARD: Partition = Partition { id: "aws", dns_suffix: "amazonaws.com", reverse_dns_prefix: "com.amazonaws" };

/// The partition a region belongs to.
pub fn of_region(region: &str) -> &'static Partition {
    PARTITIONS.iter().find(|(prefix, _)| region.starts_with(prefix)).map(|(_, p)| p).unwrap_or(&STANDARD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_their_partitions() {
        assert_eq!(of_region("us-east-1").id, "aws");
        assert_eq!(of_region("cn-northwest-1").id, "aws-cn");
        assert_eq!(of_region("cn-north-1").dns_suffix, "amazonaws.com.cn");
        assert_eq!(of_region("us-gov-west-1").id, "aws-us-gov");
        assert_eq!(of_region("us-isob-east-1").id, "aws-iso-b");
        assert_eq!(of_region("us-iso-east-1").id, "aws-iso");
    }
}

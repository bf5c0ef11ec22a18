//! `ecspoc graph`: the dependency graph in Graphviz DOT.

use ecspoc_core::graph::{Graph, NodeKey};

pub fn render(graph: &Graph) -> String {
    let mut nodes: Vec<&NodeKey> = graph.index.keys().collect();
    nodes.sort();
    let mut out = String::from(
        "digraph {\n\tcompound = \"true\"\n\tnewrank = \"true\"\n\trankdir = \"RL\"\n\tnode [fontname = \"sans-serif\"]\n",
    );
    for n in &nodes {
        let (shape, label) = match n {
            NodeKey::Resource(r) => ("box", r.to_string()),
            NodeKey::Provider(_) => ("diamond", n.to_string()),
            _ => ("note", n.to_string()),
        };
        out.push_str(&format!("\t\"{}\" [label = \"{}\", shape = \"{shape}\"]\n", esc(&n.to_string()), esc(&label)));
    }
    let mut edges: Vec<(String, String)> = graph
        .graph
        .edge_indices()
        .filter_map(|e| graph.graph.edge_endpoints(e))
        .map(|(from, to)| (graph.graph[to].to_string(), graph.graph[from].to_string()))
        .collect();
    edges.sort();
    for (a, b) in edges {
        // Terraform draws an arrow from a node to what it depends on.
        out.push_str(&format!("\t\"{}\" -> \"{}\"\n", esc(&a), esc(&b)));
    }
    out.push_str("}\n");
    out
}

/// Resources only, each module a box of its own, an arrow from a resource
/// to each resource it depends on (through variables, locals and outputs).
pub fn render_resources(graph: &Graph) -> String {
    let mut resources: Vec<&NodeKey> = graph.index.keys().filter(|k| matches!(k, NodeKey::Resource(_))).collect();
    resources.sort();
    let mut out = String::from(
        "digraph {\n\tcompound = \"true\"\n\tnewrank = \"true\"\n\trankdir = \"RL\"\n\tnode [fontname = \"sans-serif\", shape = \"box\"]\n",
    );
    let mut by_module: std::collections::BTreeMap<String, Vec<&NodeKey>> = std::collections::BTreeMap::new();
    for r in &resources {
        if let NodeKey::Resource(addr) = r {
            by_module.entry(addr.module.to_string()).or_default().push(r);
        }
    }
    for (i, (module, nodes)) in by_module.iter().enumerate() {
        let indent = if module.is_empty() { "\t" } else { "\t\t" };
        if !module.is_empty() {
            out.push_str(&format!("\tsubgraph \"cluster_{i}\" {{\n\t\tlabel = \"{}\"\n", esc(module)));
        }
        for n in nodes {
            let NodeKey::Resource(addr) = n else { continue };
            // Inside a module's box the module prefix would only repeat its label.
            let full = addr.to_string();
            let short = full.strip_prefix(&format!("{module}.")).unwrap_or(&full);
            out.push_str(&format!("{indent}\"{}\" [label = \"{}\"]\n", esc(&full), esc(short)));
        }
        if !module.is_empty() {
            out.push_str("\t}\n");
        }
    }
    let mut edges = Vec::new();
    for r in &resources {
        for dep in graph.resource_dependencies(r) {
            edges.push((r.to_string(), dep.to_string()));
        }
    }
    edges.sort();
    edges.dedup();
    for (a, b) in edges {
        out.push_str(&format!("\t\"{}\" -> \"{}\"\n", esc(&a), esc(&b)));
    }
    out.push_str("}\n");
    out
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

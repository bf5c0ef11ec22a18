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

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

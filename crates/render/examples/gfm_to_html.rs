//! Markdown on stdin to HTML on stdout, parsed as GitHub parses comments
//! (GFM: tables, autolinks, strikethrough, task lists; <details> kept). Used
//! by scripts/comment-screenshot to show a plan comment as GitHub would.

use std::io::Read;

fn main() {
    let mut md = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut md) {
        eprintln!("gfm_to_html: cannot read stdin: {e}");
        std::process::exit(1);
    }
    let mut o = comrak::Options::default();
    o.extension.table = true;
    o.extension.autolink = true;
    o.extension.strikethrough = true;
    o.extension.tasklist = true;
    o.render.unsafe_ = true;
    print!("{}", comrak::markdown_to_html(&md, &o));
}

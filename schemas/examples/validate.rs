//! Validates CIB files and prints what was found:
//! `cargo run -p schemas --example validate -- FILE...`

fn main() {
    let mut status = 0;
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{path}: {e}");
                status = 2;
                continue;
            }
        };
        let doc = match cib::Document::parse(&text) {
            Ok(d) => d,
            Err(e) => {
                println!("{path}: not XML: {e}");
                status = 1;
                continue;
            }
        };
        let report = schemas::validate(&doc);
        for p in &report.problems {
            println!("{path}: {:?}: {p}", p.severity);
        }
        if !report.is_valid() {
            status = 1;
        }
    }
    std::process::exit(status);
}

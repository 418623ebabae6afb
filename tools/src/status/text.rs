//! Pacemaker's text list format: a list header at level 0 is written
//! plain (`Title:`), deeper headers and items as `"  " * level + "* "`.

/// Accumulates output lines.
#[derive(Debug, Default)]
pub struct Out {
    buf: String,
    /// Leave node names off primitive lines (Pacemaker's
    /// `pcmk_show_rsc_only`, which crm_resource -L uses).
    rsc_only: bool,
}

impl Out {
    pub fn new() -> Out {
        Out::default()
    }

    /// A writer whose primitive lines leave out the node (crm_resource -L).
    pub fn resources_only() -> Out {
        Out { rsc_only: true, ..Out::default() }
    }

    /// Whether primitive lines name the node they run on.
    pub fn shows_nodes(&self) -> bool {
        !self.rsc_only
    }

    fn prefix(&mut self, level: usize) {
        if level > 0 {
            for _ in 0..level {
                self.buf.push_str("  ");
            }
            self.buf.push_str("* ");
        }
    }

    /// A list header: `text:`.
    pub fn header(&mut self, level: usize, text: &str) {
        self.prefix(level);
        self.buf.push_str(text);
        self.buf.push_str(":\n");
    }

    /// A list item.
    pub fn item(&mut self, level: usize, text: &str) {
        self.prefix(level);
        self.buf.push_str(text);
        self.buf.push('\n');
    }

    /// A named item: `name: text`.
    pub fn named_item(&mut self, level: usize, name: &str, text: &str) {
        self.prefix(level);
        self.buf.push_str(name);
        self.buf.push_str(": ");
        self.buf.push_str(text);
        self.buf.push('\n');
    }

    /// A spacer between sections.
    pub fn blank(&mut self) {
        self.buf.push('\n');
    }

    pub fn finish(self) -> String {
        self.buf
    }
}

//! Editing one part of a CIB through the tree API changes that part and
//! nothing else, across serialize and parse.
//!
//! For random suite CIBs, a random element and a random edit: after the
//! edit, serializing and parsing again, putting the ORIGINAL subtree back
//! at the edited place must give the original document byte for byte.
//! Anything the edit, the writer or the parser disturbed outside the
//! edited subtree (an attribute, its order, a comment, a sibling) shows.

use std::path::PathBuf;
use std::sync::OnceLock;

use cib::{Document, Element, Node};
use proptest::prelude::*;

fn corpus() -> &'static [Document] {
    static DOCS: OnceLock<Vec<Document>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/pcmk-suite/xml");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        // Every 17th file: a spread of shapes, quick to load.
        let mut docs: Vec<Document> = paths
            .iter()
            .step_by(17)
            .map(|p| Document::parse(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect();
        // Comments and processing instructions in and around the tree.
        docs.push(
            Document::parse(
                "<!-- before --><cib epoch=\"1\"><?pi x?><configuration><!-- c --><resources>\
                 <primitive id=\"a\" class=\"ocf\"/><!-- between --><primitive id=\"b\"/></resources>\
                 </configuration><status/></cib><!-- after -->",
            )
            .unwrap(),
        );
        docs
    })
}

/// Child-index path of every element, in document order.
fn element_paths(e: &Element, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(prefix.clone());
    for (i, child) in e.children.iter().enumerate() {
        if let Node::Element(c) = child {
            prefix.push(i);
            element_paths(c, prefix, out);
            prefix.pop();
        }
    }
}

fn at_mut<'a>(e: &'a mut Element, path: &[usize]) -> &'a mut Element {
    path.iter().fold(e, |e, &i| match &mut e.children[i] {
        Node::Element(c) => c,
        _ => unreachable!("paths point at elements"),
    })
}

#[derive(Debug, Clone)]
enum Edit {
    SetAttr(String, String),
    RemoveAttr(usize),
    InsertChild(usize),
    RemoveChild(usize),
    AddComment(String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        ("[a-z][a-z-]{0,8}", "[ -~]{0,12}").prop_map(|(k, v)| Edit::SetAttr(k, v)),
        any::<usize>().prop_map(Edit::RemoveAttr),
        any::<usize>().prop_map(Edit::InsertChild),
        any::<usize>().prop_map(Edit::RemoveChild),
        "[a-z ]{0,10}".prop_map(Edit::AddComment),
    ]
}

fn apply(e: &mut Element, edit: &Edit) {
    match edit {
        Edit::SetAttr(k, v) => e.set_attr(k, v.clone()),
        Edit::RemoveAttr(n) => {
            if e.attr_count() > 0 {
                let name = e.attrs().nth(n % e.attr_count()).unwrap().0.to_string();
                e.remove_attr(&name);
            }
        }
        Edit::InsertChild(n) => {
            let count = e.elements().count();
            e.insert_element(n % (count + 1), Element::new("inserted").with_attr("id", "new-id"));
        }
        Edit::RemoveChild(n) => {
            let count = e.elements().count();
            if count > 0 {
                e.remove_element(n % count);
            }
        }
        Edit::AddComment(c) => e.children.push(Node::Comment(c.clone())),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn an_edit_changes_only_its_subtree(doc_pick in any::<usize>(), el_pick in any::<usize>(), edit in edit()) {
        let docs = corpus();
        let original = &docs[doc_pick % docs.len()];
        let mut paths = Vec::new();
        element_paths(&original.root, &mut Vec::new(), &mut paths);
        let path = &paths[el_pick % paths.len()];

        let mut edited = original.clone();
        apply(at_mut(&mut edited.root, path), &edit);
        let reparsed = Document::parse(&edited.to_file_string()).expect("an edited document parses");
        prop_assert_eq!(&reparsed, &edited);

        let mut restored = reparsed;
        *at_mut(&mut restored.root, path) = at_mut(&mut original.clone().root, path).clone();
        prop_assert_eq!(restored.to_file_string(), original.to_file_string());
    }
}

//! The crate's one error enum.

use crate::graph::ActionKind;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not well-formed XML.
    #[error("transition graph: {0}")]
    Xml(#[from] cib::xml::ParseError),

    /// The root element is not `<transition_graph>`.
    #[error("line {line}: expected <transition_graph>, found <{found}>")]
    NotAGraph { line: u32, found: String },

    #[error("line {line}: <{element}> has no {attr} attribute")]
    MissingAttr {
        line: u32,
        element: String,
        attr: &'static str,
    },

    #[error("line {line}: <{element} {attr}=\"{value}\">: not an integer")]
    NotAnInteger {
        line: u32,
        element: String,
        attr: String,
        value: String,
    },

    /// An element this model has no place for; refused rather than dropped,
    /// so a graph never silently loses content.
    #[error("line {line}: unexpected <{element}> inside <{parent}>")]
    Unexpected {
        line: u32,
        element: String,
        parent: String,
    },

    /// An attribute this model has no place for on an element that keeps none.
    #[error("line {line}: unexpected attribute {attr} on <{element}>")]
    UnexpectedAttr {
        line: u32,
        element: String,
        attr: String,
    },

    /// Text content where Pacemaker's graphs have none.
    #[error("line {line}: unexpected text inside <{parent}>")]
    UnexpectedText { line: u32, parent: String },

    /// A result or query for an action the graph does not have.
    #[error("no action {0} in the transition graph")]
    UnknownAction(i32),

    /// A result for an action that is not waiting for one.
    #[error("{kind:?} action {id} is not in flight")]
    NotInFlight { id: i32, kind: ActionKind },
}

//! crm_standby: a node's `standby` attribute, as Pacemaker 2.1.5's
//! crm_standby script drives crm_attribute: queries look at the permanent
//! attribute first and fall back to the transient one (default `off`);
//! updates are permanent unless `-l` says otherwise; a delete removes both.

use clap::Parser;

use super::cli::{execute, usage, Args as AttrArgs};
use crate::cib_file::{Context, Outcome};

#[derive(Parser, Debug)]
#[command(name = "crm_standby", about = "Query, set or delete a node's standby attribute", disable_version_flag = true)]
pub struct Args {
    #[arg(short = 'G', long = "query", visible_alias = "get-value")]
    pub query: bool,
    #[arg(short = 'v', long = "update", visible_alias = "attr-value")]
    pub update: Option<String>,
    #[arg(short = 'D', long = "delete", visible_alias = "delete-attr")]
    pub delete: bool,
    /// Node to operate on (default: this node)
    #[arg(short = 'N', long = "node", visible_alias = "uname", short_alias = 'U')]
    pub node: Option<String>,
    /// reboot or forever
    #[arg(short = 'l', long = "lifetime")]
    pub lifetime: Option<String>,
    #[arg(short = 'i', long = "id", visible_alias = "attr-id")]
    pub id: Option<String>,
    #[arg(short = 'q', long = "quiet", short_alias = 'Q')]
    pub quiet: bool,
    #[arg(short = 'V', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

pub fn run(argv: &[String], ctx: &Context) -> Outcome {
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    let base = AttrArgs {
        name: Some("standby".into()),
        node: a.node.clone().or_else(|| ctx.local_node.clone()),
        id: a.id.clone(),
        quiet: a.quiet,
        lifetime: a.lifetime.clone(),
        ..Default::default()
    };
    let with = |f: &dyn Fn(&mut AttrArgs)| {
        let mut x = AttrArgs { name: base.name.clone(), node: base.node.clone(), id: base.id.clone(), quiet: base.quiet, lifetime: base.lifetime.clone(), ..Default::default() };
        f(&mut x);
        x
    };
    if a.delete {
        let mut d = with(&|x| x.delete = true);
        if a.lifetime.is_some() {
            return execute(&d, ctx);
        }
        d.lifetime = Some("forever".into());
        let mut first = execute(&d, ctx);
        d.lifetime = Some("reboot".into());
        let second = execute(&d, ctx);
        first.stdout.push_str(&second.stdout);
        first.stderr.push_str(&second.stderr);
        first.code = 0;
        return first;
    }
    if let Some(v) = &a.update {
        let mut u = with(&|x| x.update = Some(v.clone()));
        if u.lifetime.is_none() {
            u.lifetime = Some("forever".into());
        }
        return execute(&u, ctx);
    }
    let mut g = with(&|x| x.query = true);
    if g.lifetime.is_none() {
        g.lifetime = Some("forever".into());
        if execute(&g, ctx).code != 0 {
            g.lifetime = Some("reboot".into());
            g.default = Some("off".into());
        }
    }
    execute(&g, ctx)
}

//! `pispas-sim scale` (filled in with the scale simulator).

use super::Args;

pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("scale simulator not built yet")
}

//! `pispas-sim rfid` (filled in with the RFID simulator).

use super::Args;

pub async fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("rfid simulator not built yet")
}

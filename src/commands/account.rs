//! `idleshare account`: the customer's own account (its id, balance, deposits, escrow and
//! spending per job and per content). The account key lives in the OS keychain like the
//! node's, under the account data directory.

use anyhow::Context;
use idleshare_node::{KeyRole, load_or_create_key};

use crate::api_client::ApiClient;
use crate::cli::{AccountArgs, ApiArgs};

/// The API client signing as this user's customer account (created on first use).
pub fn signed_client(api: &ApiArgs) -> anyhow::Result<ApiClient> {
    let dir = super::data_dir(api.account_dir.clone(), "customer")?;
    let identity = load_or_create_key(&dir, api.key_store.into(), KeyRole::Customer)
        .context("cannot load the customer account key")?;
    if identity.created {
        eprintln!(
            "created customer account {} (key kept in the {})",
            identity.id(),
            identity.storage
        );
    }
    Ok(ApiClient::new(&api.api).with_key(identity.key))
}

pub fn run(args: AccountArgs) -> anyhow::Result<()> {
    let client = signed_client(&args.api)?;
    let account = client.account().context("no account key")?;
    let view = match client.account_view() {
        Ok(view) => view,
        Err(e) => {
            println!("account {account}");
            return Err(e).context("cannot read the account from the coordinator");
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
        return Ok(());
    }
    println!("account {account}");
    println!("balance   {} tokens", view.balance);
    println!("deposited {} tokens", view.deposited);
    println!(
        "escrowed  {} tokens (held for jobs, fetches and storage)",
        view.escrowed
    );
    println!(
        "spent     {} tokens (paid to nodes, with the operator's fee)",
        view.spent
    );
    if view.deposited.0 == 0 {
        println!(
            "no deposits yet: give this account id to the coordinator's operator, who records \
             your payment with `idleshare coordinator account deposit {account} AMOUNT`"
        );
    }
    if !view.pots.is_empty() {
        println!(
            "{:<28} {:>14} {:>14} {:>14} {:>14}",
            "for", "escrowed", "spent", "refunded", "held"
        );
    }
    for pot in &view.pots {
        println!(
            "{:<28} {:>14} {:>14} {:>14} {:>14}",
            pot.pot.to_string(),
            pot.escrowed.to_string(),
            pot.spent.to_string(),
            pot.refunded.to_string(),
            pot.held.to_string()
        );
    }
    Ok(())
}

/// Parses tokens as people write them (`12`, `0.5`, `3.000001`) into exact micro-tokens.
pub fn parse_tokens(text: &str) -> anyhow::Result<idleshare_protocol::MicroTokens> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let bad = || {
        anyhow::anyhow!(
            "{text:?} is not an amount of tokens (like 12 or 0.5, at most six decimals)"
        )
    };
    if whole.is_empty() && fraction.is_empty()
        || fraction.len() > 6
        || !whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let fraction: u64 = format!("{fraction:0<6}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(fraction))
        .filter(|m| *m <= i64::MAX as u64)
        .map(idleshare_protocol::MicroTokens)
        .ok_or_else(|| anyhow::anyhow!("{text} tokens is more than an account can hold"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use idleshare_protocol::MicroTokens;

    #[test]
    fn tokens_parse_exactly_and_nonsense_is_refused() {
        assert_eq!(parse_tokens("12").unwrap(), MicroTokens(12_000_000));
        assert_eq!(parse_tokens("0.5").unwrap(), MicroTokens(500_000));
        assert_eq!(parse_tokens(".000001").unwrap(), MicroTokens(1));
        assert_eq!(parse_tokens("3.000001").unwrap(), MicroTokens(3_000_001));
        for bad in ["", ".", "1.0000001", "-1", "1e6", "one", "1.2.3"] {
            assert!(parse_tokens(bad).is_err(), "{bad:?}");
        }
        assert!(
            parse_tokens("99999999999999999").is_err(),
            "overflow is refused"
        );
    }
}

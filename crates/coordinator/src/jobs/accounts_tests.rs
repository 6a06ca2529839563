//! Property and table tests of the money movements: whatever sequence of deposits,
//! escrows, payments and refunds arrives, and whichever of them are refused, every
//! deposited micro-token stays accounted for and nothing wraps.

use ed25519_dalek::SigningKey;
use idleshare_protocol::api::Pot;
use idleshare_protocol::{ContentId, JobId, MicroTokens, NodeId};
use proptest::prelude::*;

use super::accounts::{Accounts, MAX_TOTAL, MoneyError, Movement};

fn key(seed: u8) -> NodeId {
    NodeId::from(SigningKey::from_bytes(&[seed; 32]).verifying_key())
}

fn pot(n: u8) -> Pot {
    match n % 3 {
        0 => Pot::Job(JobId(u64::from(n))),
        1 => Pot::Order(u64::from(n)),
        _ => Pot::ServingBudget(ContentId::of(&[n]), 7),
    }
}

fn movement() -> impl Strategy<Value = Movement> {
    let amount = prop_oneof![0..1_000u64, Just(MAX_TOTAL), Just(u64::MAX), any::<u64>()];
    prop_oneof![
        (1..4u8, amount.clone()).prop_map(|(a, amount)| Movement::Deposit {
            account: key(a),
            amount
        }),
        (1..4u8, 0..6u8, amount.clone()).prop_map(|(a, p, amount)| Movement::Escrow {
            account: key(a),
            pot: pot(p),
            amount
        }),
        (0..6u8, amount.clone()).prop_map(|(p, amount)| Movement::Refund {
            pot: pot(p),
            amount
        }),
        (0..6u8, 0..6u8, amount.clone()).prop_map(|(a, b, amount)| Movement::Transfer {
            from: pot(a),
            to: pot(b),
            amount
        }),
        (0..6u8, amount.clone(), 0..100u64).prop_map(|(p, amount, fee)| Movement::Pay {
            pot: pot(p),
            node: key(9),
            amount,
            fee
        }),
    ]
}

proptest! {
    #[test]
    fn every_token_stays_accounted_for(moves in proptest::collection::vec(movement(), 1..60)) {
        let mut accounts = Accounts::new(500);
        let mut replay = Accounts::new(500);
        for m in &moves {
            let before = accounts.totals();
            match accounts.apply(m) {
                Ok(()) => replay.apply(m).expect("replaying an accepted movement succeeds"),
                Err(_) => prop_assert_eq!(accounts.totals(), before, "a refused movement changes nothing"),
            }
            let totals = accounts.totals();
            prop_assert!(totals.balanced(), "{:?} after {:?}", totals, m);
            prop_assert!(totals.deposits <= u128::from(MAX_TOTAL));
        }
        prop_assert_eq!(replay.totals(), accounts.totals());
        for a in 1..4 {
            prop_assert_eq!(replay.view(&key(a)), accounts.view(&key(a)));
        }
    }
}

#[test]
fn escrow_pay_refund_is_exact_and_overdrafts_are_refused() {
    let mut accounts = Accounts::new(500);
    let (alice, job) = (key(1), Pot::Job(JobId(1)));
    let escrow = Movement::Escrow {
        account: alice,
        pot: job,
        amount: 1_050,
    };
    assert_eq!(
        accounts.apply(&escrow),
        Err(MoneyError::Insufficient {
            need: MicroTokens(1_050),
            have: MicroTokens(0)
        })
    );
    accounts
        .apply(&Movement::Deposit {
            account: alice,
            amount: 2_000,
        })
        .unwrap();
    accounts.apply(&escrow).unwrap();
    assert_eq!(accounts.apply(&escrow), Err(MoneyError::PotExists(job)));
    assert_eq!(accounts.fee(400), 20);
    let pay = Movement::Pay {
        pot: job,
        node: key(9),
        amount: 400,
        fee: 20,
    };
    accounts.apply(&pay).unwrap();
    accounts.apply(&pay).unwrap();
    // 210 left: a third payment does not fit and changes nothing.
    assert!(matches!(
        accounts.apply(&pay),
        Err(MoneyError::PotShort { .. })
    ));
    accounts
        .apply(&Movement::Refund {
            pot: job,
            amount: 210,
        })
        .unwrap();
    let view = accounts.view(&alice);
    assert_eq!(view.balance, MicroTokens(2_000 - 840));
    assert_eq!(
        (view.spent, view.escrowed),
        (MicroTokens(840), MicroTokens(0))
    );
    let totals = accounts.totals();
    assert_eq!((totals.paid, totals.fees), (800, 40));
    assert!(totals.balanced());
}

#[test]
fn deposits_past_the_database_range_are_refused_not_wrapped() {
    let mut accounts = Accounts::new(0);
    let alice = key(1);
    accounts
        .apply(&Movement::Deposit {
            account: alice,
            amount: MAX_TOTAL,
        })
        .unwrap();
    assert_eq!(
        accounts.apply(&Movement::Deposit {
            account: key(2),
            amount: 1
        }),
        Err(MoneyError::Overflow)
    );
    assert_eq!(accounts.account(&alice).balance, MAX_TOTAL);
    assert_eq!(accounts.with_fee(MAX_TOTAL), Some(MAX_TOTAL));
    assert_eq!(Accounts::new(1).with_fee(MAX_TOTAL), None);
}

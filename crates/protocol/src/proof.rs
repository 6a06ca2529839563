//! Identity proof of work: what makes a node id cost something, so one machine cannot
//! register thousands of identities for free.
//!
//! A proof is a nonce such that `BLAKE3(DOMAIN ‖ node public key ‖ nonce as 8 little-endian
//! bytes)` starts with at least `D` zero bits, where `D` is the difficulty the coordinator
//! requires and publishes. Grinding a nonce rather than the key itself keeps identities: a
//! node keeps its key (its history, its credit) and only computes a nonce for it, and a
//! stronger difficulty later needs only a new nonce. The key is bound into the hash, so a
//! proof found for one id is worthless for another.
//!
//! Pure: verification is one hash, the search is a bounded range of nonces the caller
//! drives (on a low-priority thread, checking for a stop between ranges).

use serde::{Deserialize, Serialize};

use crate::ids::NodeId;

/// Domain tag hashed before the key, so these hashes can never collide with another use of
/// BLAKE3 in the protocol.
pub const DOMAIN: &[u8] = b"idleshare identity proof v1\0";

/// The difficulty a coordinator requires unless its operator says otherwise, in leading
/// zero bits.
///
/// Tuned for about half a minute on a typical home PC at low priority. One proof hash is a
/// single BLAKE3 block (28 + 32 + 8 bytes); measured on this project's development machine
/// (one core of a 2-core cloud VM, release build, at nice 19 on an otherwise idle core) at
/// 2.5–2.8 million hashes per second; a home PC's core is in the 1.5–4 M/s range. A
/// `D`-bit proof takes `2^D` hashes on average, on one core (the search uses one thread so
/// the owner's machine stays responsive): `2^26 ≈ 67 M` hashes ≈ 25 s at 2.7 M/s, 17–45 s
/// across that range. Each bit doubles or halves it: 25 bits would be about 12 s, 27 bits
/// about 50 s. At low priority on a busy machine it takes longer, never the owner's time.
pub const DEFAULT_ID_DIFFICULTY: u8 = 26;

/// The hardest difficulty a coordinator may require: `2^40` hashes is days of one core, a
/// sanity bound that keeps a mistyped flag from locking every node out for ever.
pub const MAX_ID_DIFFICULTY: u8 = 40;

/// A node's proof that it spent work on its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdentityProof {
    /// The nonce hashed after the key.
    pub nonce: u64,
}

/// Why a proof is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the identity proof has {found} leading zero bits but this coordinator requires \
     {required}: compute a stronger one (the node does so by itself) and register again"
)]
pub struct WeakProof {
    /// Leading zero bits the proof has.
    pub found: u32,
    /// Leading zero bits required.
    pub required: u8,
}

/// The proof hash of `node_id` with `nonce`.
pub fn proof_hash(node_id: &NodeId, nonce: u64) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(DOMAIN);
    hasher.update(node_id.as_bytes());
    hasher.update(&nonce.to_le_bytes());
    *hasher.finalize().as_bytes()
}

/// Leading zero bits of `hash` (0–256).
pub fn leading_zero_bits(hash: &[u8; 32]) -> u32 {
    let mut bits = 0;
    for byte in hash {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// How many leading zero bits `proof` earns for `node_id`.
pub fn proof_bits(node_id: &NodeId, proof: IdentityProof) -> u32 {
    leading_zero_bits(&proof_hash(node_id, proof.nonce))
}

/// Accepts `proof` for `node_id` when it has at least `required` leading zero bits.
pub fn verify(node_id: &NodeId, proof: IdentityProof, required: u8) -> Result<(), WeakProof> {
    let found = proof_bits(node_id, proof);
    if found >= u32::from(required) {
        Ok(())
    } else {
        Err(WeakProof { found, required })
    }
}

/// Tries nonces `start..start + count` (stopping at `u64::MAX`); returns the first that
/// reaches `required` bits. Callers search in slices so they can stop, report progress and
/// resume from `start + count`.
pub fn search(node_id: &NodeId, required: u8, start: u64, count: u64) -> Option<IdentityProof> {
    let end = start.saturating_add(count);
    (start..end)
        .map(|nonce| IdentityProof { nonce })
        .find(|proof| proof_bits(node_id, *proof) >= u32::from(required))
}

/// Hashes a search for `bits` takes on average (`2^bits`).
pub fn expected_hashes(bits: u8) -> f64 {
    2f64.powi(i32::from(bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(byte: u8) -> NodeId {
        let key = ed25519_dalek::SigningKey::from_bytes(&[byte; 32]);
        NodeId::from(key.verifying_key())
    }

    #[test]
    fn leading_zero_bits_table() {
        let mut cases: Vec<([u8; 32], u32)> = vec![([0; 32], 256), ([0xff; 32], 0)];
        for (index, byte, bits) in [(0, 0x80, 0), (0, 0x01, 7), (1, 0x40, 9), (3, 0x01, 31)] {
            let mut hash = [0xff; 32];
            hash[..index].fill(0);
            hash[index] = byte;
            cases.push((hash, bits));
        }
        for (hash, bits) in cases {
            assert_eq!(leading_zero_bits(&hash), bits, "{hash:02x?}");
        }
    }

    #[test]
    fn a_found_proof_verifies_and_a_weaker_requirement_too() {
        let node = id(1);
        for required in [0u8, 1, 4, 8, 12] {
            let proof = search(&node, required, 0, 1 << 20).expect("found within 2^20");
            assert!(proof_bits(&node, proof) >= u32::from(required));
            assert_eq!(verify(&node, proof, required), Ok(()));
            assert_eq!(verify(&node, proof, required.saturating_sub(1)), Ok(()));
        }
    }

    #[test]
    fn verification_table() {
        let node = id(2);
        let proof = search(&node, 10, 0, 1 << 22).unwrap();
        let bits = proof_bits(&node, proof);
        // (node, proof, required, accepted)
        let cases = [
            (node, proof, 10, true),
            (node, proof, bits as u8, true),
            // One bit more than it has: refused, naming both.
            (node, proof, bits as u8 + 1, false),
            // Someone else's proof is worth nothing for this id (almost surely < 10 bits).
            (id(3), proof, 10, proof_bits(&id(3), proof) >= 10),
            (
                node,
                proof,
                MAX_ID_DIFFICULTY,
                bits >= u32::from(MAX_ID_DIFFICULTY),
            ),
        ];
        for (who, proof, required, accepted) in cases {
            let result = verify(&who, proof, required);
            assert_eq!(result.is_ok(), accepted, "{required}: {result:?}");
            if let Err(weak) = result {
                assert_eq!(weak.required, required);
                assert!(weak.to_string().contains("requires"), "{weak}");
            }
        }
    }

    #[test]
    fn search_stays_in_its_slice_and_resumes() {
        let node = id(4);
        let first = search(&node, 8, 0, 1 << 20).unwrap();
        // A slice that ends before the first proof finds nothing.
        assert_eq!(search(&node, 8, 0, first.nonce), None);
        // Resuming at the proof finds it; a slice at the very end does not overflow.
        assert_eq!(search(&node, 8, first.nonce, 1), Some(first));
        assert!(search(&node, 200, u64::MAX - 2, 10).is_none());
        // Difficulty zero: the first nonce tried is a proof.
        assert_eq!(search(&node, 0, 7, 1), Some(IdentityProof { nonce: 7 }));
    }

    #[test]
    fn the_hash_binds_the_domain_key_and_nonce() {
        let node = id(5);
        assert_ne!(proof_hash(&node, 1), proof_hash(&node, 2));
        assert_ne!(proof_hash(&node, 1), proof_hash(&id(6), 1));
        assert_eq!(expected_hashes(10), 1024.0);
    }
}

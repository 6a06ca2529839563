//! TLS over ed25519 keys: certificates made from a node's key, and verifiers that pin keys.
//!
//! There is no certificate authority. A node pins the coordinator's public key (it is part
//! of the coordinator address); the coordinator accepts any ed25519 client certificate
//! whose handshake signature is valid, and the session layer then requires the
//! certificate's key to equal the node id claimed in hello. Handshake signatures are
//! verified with the ring provider, so possession of the private key is always proven.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use idleshare_protocol::NodeId;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error as TlsError, OtherError,
    PeerIncompatible, SignatureScheme,
};

use crate::der::{CertKeyError, ed25519_key_of_certificate};

/// The server name nodes put in their TLS hello; irrelevant to trust, which is by key.
pub const SERVER_NAME: &str = "idleshare";

/// Why a certificate could not be made from a key.
#[derive(Debug, thiserror::Error)]
pub enum CertificateSetupError {
    /// The key could not be encoded.
    #[error("cannot encode the ed25519 key: {0}")]
    Encode(String),
    /// rcgen refused to build the certificate.
    #[error("cannot build the certificate: {0}")]
    Build(#[from] rcgen::Error),
}

/// The server presented a key other than the pinned one.
///
/// rustls shows certificate errors with `Debug`, so `Debug` prints the sentence too.
#[derive(thiserror::Error)]
#[error("coordinator key mismatch: expected {expected}, server presented {presented}")]
pub struct PinMismatch {
    /// The pinned key from the coordinator address.
    pub expected: NodeId,
    /// The key the server's certificate holds.
    pub presented: NodeId,
}

impl std::fmt::Debug for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// A self-signed certificate over `key`, and the key in the form rustls wants.
pub fn certificate_for(
    key: &SigningKey,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), CertificateSetupError> {
    let pkcs8 = key
        .to_pkcs8_der()
        .map_err(|e| CertificateSetupError::Encode(e.to_string()))?;
    let pkcs8 = PrivatePkcs8KeyDer::from(pkcs8.as_bytes().to_vec());
    let key_pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_ED25519)?;
    let cert =
        rcgen::CertificateParams::new(vec![SERVER_NAME.to_owned()])?.self_signed(&key_pair)?;
    Ok((cert.der().clone(), PrivateKeyDer::Pkcs8(pkcs8)))
}

/// The node id of the peer of an established connection (its certificate's key).
pub fn peer_node_id(connection: &quinn::Connection) -> Result<NodeId, CertKeyError> {
    let identity = connection
        .peer_identity()
        .ok_or(CertKeyError::Malformed("peer sent no certificate"))?;
    let certs = identity
        .downcast::<Vec<CertificateDer<'static>>>()
        .map_err(|_| CertKeyError::Malformed("peer identity is not a certificate chain"))?;
    let first = certs
        .first()
        .ok_or(CertKeyError::Malformed("empty certificate chain"))?;
    ed25519_key_of_certificate(first)
}

fn supported_algorithms() -> WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

fn key_of(cert: &CertificateDer<'_>) -> Result<NodeId, TlsError> {
    ed25519_key_of_certificate(cert)
        .map_err(|e| TlsError::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e)))))
}

fn verify_ed25519_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algorithms: &WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, TlsError> {
    if dss.scheme != SignatureScheme::ED25519 {
        return Err(TlsError::PeerIncompatible(
            PeerIncompatible::NoSignatureSchemesInCommon,
        ));
    }
    verify_tls13_signature(message, cert, dss, algorithms)
}

/// Node side: accepts the server only if its certificate key is the pinned coordinator key.
#[derive(Debug)]
pub struct PinnedServerKey {
    expected: NodeId,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedServerKey {
    /// Pins `expected`.
    pub fn new(expected: NodeId) -> Self {
        Self {
            expected,
            algorithms: supported_algorithms(),
        }
    }
}

impl ServerCertVerifier for PinnedServerKey {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let presented = key_of(end_entity)?;
        if presented != self.expected {
            let mismatch = PinMismatch {
                expected: self.expected,
                presented,
            };
            return Err(TlsError::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(mismatch)),
            )));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        Err(TlsError::PeerIncompatible(
            PeerIncompatible::Tls13RequiredForQuic,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_ed25519_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

/// Coordinator side: requires a client certificate holding an ed25519 key.
///
/// Which key is acceptable is decided after the handshake, against the id in hello.
#[derive(Debug)]
pub struct AnyEd25519Client {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AnyEd25519Client {
    /// A verifier with the ring provider's signature algorithms.
    pub fn new() -> Self {
        Self {
            algorithms: supported_algorithms(),
        }
    }
}

impl Default for AnyEd25519Client {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientCertVerifier for AnyEd25519Client {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, TlsError> {
        key_of(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        Err(TlsError::PeerIncompatible(
            PeerIncompatible::Tls13RequiredForQuic,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_ed25519_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_carries_exactly_the_signing_key() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let (cert, _) = certificate_for(&key).unwrap();
        let id = ed25519_key_of_certificate(&cert).unwrap();
        assert_eq!(id, NodeId::from(key.verifying_key()));
    }

    #[test]
    fn pinned_verifier_refuses_another_key_and_names_both() {
        let pinned = NodeId::from(SigningKey::from_bytes(&[1u8; 32]).verifying_key());
        let (other_cert, _) = certificate_for(&SigningKey::from_bytes(&[2u8; 32])).unwrap();
        let verifier = PinnedServerKey::new(pinned);
        let name = ServerName::try_from(SERVER_NAME).unwrap();
        let err = verifier
            .verify_server_cert(&other_cert, &[], &name, &[], UnixTime::now())
            .unwrap_err();
        assert!(
            err.to_string().contains("coordinator key mismatch"),
            "{err}"
        );
        let (own_cert, _) = certificate_for(&SigningKey::from_bytes(&[1u8; 32])).unwrap();
        assert!(
            verifier
                .verify_server_cert(&own_cert, &[], &name, &[], UnixTime::now())
                .is_ok()
        );
    }
}

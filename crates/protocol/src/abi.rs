//! The job ABI: how a WebAssembly module takes its input and gives back its output.
//!
//! A job module is a core WebAssembly module (the WebAssembly 2.0 feature set: SIMD and bulk
//! memory are fine; threads, relaxed SIMD, GC, exceptions and 64-bit memories are not, so
//! every node computes the same bytes). It has **no imports at all**: no WASI, no host
//! functions, no clock, no randomness. Its whole world is its input.
//!
//! It exports:
//!
//! - `memory`: its linear memory;
//! - `idleshare_alloc(len: i32) -> i32`: returns the address of `len` free bytes, where the
//!   host writes the input;
//! - the job's entry function, `(input_ptr: i32, input_len: i32) -> i64`: computes, and
//!   returns where the output lies, packed as `(output_ptr << 32) | output_len`.
//!
//! The host instantiates a fresh instance per unit, calls `idleshare_alloc`, copies the input
//! in, calls the entry function, and copies `output_len` bytes from `output_ptr` out. An
//! output outside memory, or longer than the job's output limit, fails the unit. A trap, a
//! failed `memory.grow` that the module turns into a trap, running out of fuel or of stack
//! all fail the unit the same way on every node, so such failures are validated like
//! outputs. A minimal module in Rust:
//!
//! ```text
//! #[unsafe(no_mangle)]
//! pub extern "C" fn idleshare_alloc(len: i32) -> i32 { /* leak a Vec of len bytes */ }
//! #[unsafe(no_mangle)]
//! pub extern "C" fn run(ptr: i32, len: i32) -> i64 { /* read input, write output */ }
//! ```
//!
//! (See `assets/workloads/` for complete ones.)

use wasmparser::{ExternalKind, FuncType, Parser, Payload, ValType, Validator, WasmFeatures};

/// Name of the exported linear memory.
pub const MEMORY_EXPORT: &str = "memory";
/// Name of the exported input allocator.
pub const ALLOC_EXPORT: &str = "idleshare_alloc";
/// Largest module accepted (16 MiB).
pub const MAX_MODULE_BYTES: usize = 16 << 20;

/// The WebAssembly features a job module may use: 2.0, which computes the same result on
/// every machine (relaxed SIMD and threads would not).
pub fn allowed_features() -> WasmFeatures {
    WasmFeatures::WASM2
}

/// Why a module does not fit the ABI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbiError {
    /// Bigger than [`MAX_MODULE_BYTES`].
    #[error("module is {len} bytes, more than the limit of {MAX_MODULE_BYTES}")]
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// Not valid WebAssembly (or uses a feature outside [`allowed_features`]).
    #[error("module is not valid WebAssembly: {0}")]
    Invalid(String),
    /// The module imports something; job modules may import nothing.
    #[error("module imports {module}::{name}, but jobs get no host functions")]
    Import {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
    },
    /// A required export is absent.
    #[error("module does not export {0:?}")]
    MissingExport(String),
    /// An export has the wrong kind or signature.
    #[error("export {name:?} must be {expected}")]
    WrongExport {
        /// The export.
        name: String,
        /// What it must be, in words.
        expected: &'static str,
    },
}

/// Checks `bytes` is a valid module that fits the ABI with entry function `entry`.
pub fn check_module(bytes: &[u8], entry: &str) -> Result<(), AbiError> {
    if bytes.len() > MAX_MODULE_BYTES {
        return Err(AbiError::TooLarge { len: bytes.len() });
    }
    Validator::new_with_features(allowed_features())
        .validate_all(bytes)
        .map_err(|e| AbiError::Invalid(e.to_string()))?;
    let shape = ModuleShape::read(bytes).map_err(|e| AbiError::Invalid(e.to_string()))?;
    if let Some((module, name)) = shape.first_import {
        return Err(AbiError::Import { module, name });
    }
    shape.require(MEMORY_EXPORT, ExportShape::Memory, "a memory")?;
    shape.require(
        ALLOC_EXPORT,
        ExportShape::Function(vec![ValType::I32], vec![ValType::I32]),
        "a function (i32) -> i32",
    )?;
    shape.require(
        entry,
        ExportShape::Function(vec![ValType::I32, ValType::I32], vec![ValType::I64]),
        "a function (i32, i32) -> i64",
    )
}

#[derive(Debug, PartialEq)]
enum ExportShape {
    Memory,
    Function(Vec<ValType>, Vec<ValType>),
    Other,
}

/// What the checks need from a (valid) module: its first import and its exports' shapes.
#[derive(Default)]
struct ModuleShape {
    first_import: Option<(String, String)>,
    exports: Vec<(String, ExportShape)>,
}

impl ModuleShape {
    fn read(bytes: &[u8]) -> wasmparser::Result<Self> {
        let mut shape = Self::default();
        let mut types: Vec<FuncType> = Vec::new();
        let mut function_types: Vec<u32> = Vec::new();
        let mut exports: Vec<(String, ExternalKind, u32)> = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload? {
                Payload::TypeSection(reader) => {
                    for func_type in reader.into_iter_err_on_gc_types() {
                        types.push(func_type?);
                    }
                }
                Payload::ImportSection(reader) => {
                    if let Some(import) = reader.into_imports().next() {
                        let import = import?;
                        shape.first_import =
                            Some((import.module.to_owned(), import.name.to_owned()));
                    }
                }
                Payload::FunctionSection(reader) => {
                    for type_index in reader {
                        function_types.push(type_index?);
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export?;
                        exports.push((export.name.to_owned(), export.kind, export.index));
                    }
                }
                _ => {}
            }
        }
        // With no imports, function index i is the i-th defined function.
        for (name, kind, index) in exports {
            let export_shape = match kind {
                ExternalKind::Memory => ExportShape::Memory,
                ExternalKind::Func if shape.first_import.is_none() => function_types
                    .get(index as usize)
                    .and_then(|type_index| types.get(*type_index as usize))
                    .map_or(ExportShape::Other, |func| {
                        ExportShape::Function(func.params().to_vec(), func.results().to_vec())
                    }),
                _ => ExportShape::Other,
            };
            shape.exports.push((name, export_shape));
        }
        Ok(shape)
    }

    fn require(
        &self,
        name: &str,
        wanted: ExportShape,
        expected: &'static str,
    ) -> Result<(), AbiError> {
        match self.exports.iter().find(|(export, _)| export == name) {
            None => Err(AbiError::MissingExport(name.to_owned())),
            Some((_, shape)) if *shape == wanted => Ok(()),
            Some(_) => Err(AbiError::WrongExport {
                name: name.to_owned(),
                expected,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"(module
        (memory (export "memory") 1)
        (func (export "idleshare_alloc") (param i32) (result i32) i32.const 1024)
        (func (export "run") (param i32 i32) (result i64) i64.const 0))"#;

    fn module(text: &str) -> Vec<u8> {
        wat::parse_str(text).unwrap()
    }

    #[test]
    fn a_module_with_the_three_exports_passes() {
        assert_eq!(check_module(&module(GOOD), "run"), Ok(()));
    }

    #[test]
    fn a_missing_entry_is_named() {
        assert_eq!(
            check_module(&module(GOOD), "main"),
            Err(AbiError::MissingExport("main".into()))
        );
    }

    #[test]
    fn any_import_is_refused_with_its_name() {
        let text = GOOD.replacen(
            "(memory",
            r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (memory"#,
            1,
        );
        let err = check_module(&module(&text), "run").unwrap_err();
        assert_eq!(
            err.to_string(),
            "module imports wasi_snapshot_preview1::fd_write, but jobs get no host functions"
        );
    }

    #[test]
    fn a_wrong_signature_is_refused() {
        let text = GOOD.replace(
            "(param i32 i32) (result i64) i64.const 0",
            "(param i32) (result i64) i64.const 0",
        );
        assert!(matches!(
            check_module(&module(&text), "run"),
            Err(AbiError::WrongExport { .. })
        ));
    }

    #[test]
    fn garbage_and_threads_are_invalid() {
        assert!(matches!(
            check_module(b"\0asm\x01\0\0\0garbage", "run"),
            Err(AbiError::Invalid(_))
        ));
        assert!(matches!(
            check_module(b"not wasm", "run"),
            Err(AbiError::Invalid(_))
        ));
        let shared = GOOD.replace(
            "(memory (export \"memory\") 1)",
            "(memory (export \"memory\") 1 1 shared)",
        );
        assert!(matches!(
            check_module(&module(&shared), "run"),
            Err(AbiError::Invalid(_))
        ));
    }
}

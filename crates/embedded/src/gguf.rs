//! Reading a GGUF file: metadata and tensors, the tensors' bytes mapped
//! from the file rather than copied.
//!
//! The format (version 2 and 3): a magic `GGUF`, a version, the tensor and
//! metadata counts, the metadata as typed key/value pairs, the tensor
//! descriptions (name, shape, type, offset), then the tensor data, aligned
//! (`general.alignment`, default 32).

use memmap2::Mmap;
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

/// Why a GGUF file cannot be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GgufError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Format(String),
}

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Array(Vec<Value>),
}

impl Value {
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        }
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// The ggml types this engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q8_0,
}

impl DType {
    fn from_id(id: u32) -> Option<DType> {
        Some(match id {
            0 => DType::F32,
            1 => DType::F16,
            2 => DType::Q4_0,
            3 => DType::Q4_1,
            8 => DType::Q8_0,
            _ => return None,
        })
    }

    /// Values per block and bytes per block.
    pub(crate) fn block(self) -> (usize, usize) {
        match self {
            DType::F32 => (1, 4),
            DType::F16 => (1, 2),
            DType::Q4_0 => (32, 18),
            DType::Q4_1 => (32, 20),
            DType::Q8_0 => (32, 34),
        }
    }
}

/// Names of ggml type ids, for errors.
fn type_name(id: u32) -> String {
    let names = [
        "F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K",
        "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
        "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16",
    ];
    names
        .get(id as usize)
        .map_or_else(|| format!("type {id}"), |n| n.to_string())
}

/// One tensor: its shape (ggml order: the first dimension varies fastest)
/// and where its bytes are.
#[derive(Debug, Clone)]
pub(crate) struct TensorInfo {
    pub(crate) shape: Vec<usize>,
    pub(crate) dtype: DType,
    pub(crate) offset: usize,
    pub(crate) len: usize,
}

/// A GGUF file, mapped.
pub(crate) struct Gguf {
    map: Mmap,
    pub(crate) metadata: HashMap<String, Value>,
    tensors: HashMap<String, TensorInfo>,
    unsupported: HashMap<String, u32>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], GgufError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| GgufError::Format(format!("truncated at byte {}", self.at)))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, GgufError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, GgufError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn len(&mut self) -> Result<usize, GgufError> {
        let n = self.u64()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len())
            .ok_or_else(|| GgufError::Format(format!("a length of {n} at byte {}", self.at)))
    }

    fn string(&mut self) -> Result<String, GgufError> {
        let n = self.len()?;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    fn value(&mut self, kind: u32, depth: usize) -> Result<Value, GgufError> {
        if depth > 4 {
            return Err(GgufError::Format(
                "metadata arrays nested too deeply".into(),
            ));
        }
        Ok(match kind {
            0 => Value::Int(i64::from(self.take(1)?[0])),
            1 => Value::Int(i64::from(self.take(1)?[0] as i8)),
            2 => {
                let b = self.take(2)?;
                Value::Int(i64::from(u16::from_le_bytes([b[0], b[1]])))
            }
            3 => {
                let b = self.take(2)?;
                Value::Int(i64::from(i16::from_le_bytes([b[0], b[1]])))
            }
            4 => Value::Int(i64::from(self.u32()?)),
            5 => Value::Int(i64::from(self.u32()? as i32)),
            6 => Value::Float(f64::from(f32::from_bits(self.u32()?))),
            7 => Value::Bool(self.take(1)?[0] != 0),
            8 => Value::Str(self.string()?),
            9 => {
                let inner = self.u32()?;
                let n = self.len()?;
                let mut items = Vec::with_capacity(n.min(1 << 20));
                for _ in 0..n {
                    items.push(self.value(inner, depth + 1)?);
                }
                Value::Array(items)
            }
            10 => Value::Int(self.u64()? as i64),
            11 => Value::Int(self.u64()? as i64),
            12 => Value::Float(f64::from_bits(self.u64()?)),
            other => return Err(GgufError::Format(format!("unknown metadata type {other}"))),
        })
    }
}

impl Gguf {
    /// Maps and parses `path`.
    pub(crate) fn open(path: &Path) -> Result<Gguf, GgufError> {
        let io = |source| GgufError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the file is opened read-only and the map is only read;
        // a file truncated behind our back can fault, as with any map of a
        // model file (llama.cpp maps its GGUFs the same way).
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let mut r = Reader { bytes: &map, at: 0 };
        if r.take(4)? != b"GGUF" {
            return Err(GgufError::Format("not a GGUF file (bad magic)".into()));
        }
        let version = r.u32()?;
        if !(2..=3).contains(&version) {
            return Err(GgufError::Format(format!(
                "GGUF version {version} (2 or 3 expected)"
            )));
        }
        let n_tensors = r.len()?;
        let n_kv = r.len()?;
        let mut metadata = HashMap::new();
        for _ in 0..n_kv {
            let key = r.string()?;
            let kind = r.u32()?;
            let value = r.value(kind, 0)?;
            metadata.insert(key, value);
        }
        let mut raw = Vec::with_capacity(n_tensors.min(1 << 16));
        for _ in 0..n_tensors {
            let name = r.string()?;
            let dims = r.u32()? as usize;
            if dims > 4 {
                return Err(GgufError::Format(format!("{name}: {dims} dimensions")));
            }
            let mut shape = Vec::with_capacity(dims);
            for _ in 0..dims {
                shape.push(r.len()?);
            }
            let kind = r.u32()?;
            let offset = r.len()?;
            raw.push((name, shape, kind, offset));
        }
        let alignment = metadata
            .get("general.alignment")
            .and_then(Value::as_u64)
            .unwrap_or(32) as usize;
        let data = r.at.div_ceil(alignment.max(1)) * alignment.max(1);
        let mut tensors = HashMap::new();
        let mut unsupported = HashMap::new();
        for (name, shape, kind, offset) in raw {
            let Some(dtype) = DType::from_id(kind) else {
                unsupported.insert(name, kind);
                continue;
            };
            let (per, bytes) = dtype.block();
            let count: usize = shape.iter().product();
            if !count.is_multiple_of(per) {
                return Err(GgufError::Format(format!(
                    "{name}: {count} values in blocks of {per}"
                )));
            }
            let len = count / per * bytes;
            let start = data + offset;
            if start + len > map.len() {
                return Err(GgufError::Format(format!(
                    "{name}: data past the end of the file"
                )));
            }
            tensors.insert(
                name,
                TensorInfo {
                    shape,
                    dtype,
                    offset: start,
                    len,
                },
            );
        }
        Ok(Gguf {
            map,
            metadata,
            tensors,
            unsupported,
        })
    }

    /// A tensor's description and bytes.
    pub(crate) fn tensor(&self, name: &str) -> Result<(&TensorInfo, &[u8]), GgufError> {
        match self.tensors.get(name) {
            Some(t) => Ok((t, &self.map[t.offset..t.offset + t.len])),
            None => match self.unsupported.get(name) {
                Some(&kind) => Err(GgufError::Format(format!(
                    "tensor {name} is {}, which the embedded engine does not read (it reads F32, F16, Q4_0, Q4_1 and Q8_0)",
                    type_name(kind)
                ))),
                None => Err(GgufError::Format(format!("no tensor {name}"))),
            },
        }
    }

    /// The bytes of a tensor found earlier.
    pub(crate) fn bytes(&self, t: &TensorInfo) -> &[u8] {
        &self.map[t.offset..t.offset + t.len]
    }

    /// Whether the file has a tensor of this name.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name) || self.unsupported.contains_key(name)
    }

    /// A required metadata value.
    pub(crate) fn get(&self, key: &str) -> Result<&Value, GgufError> {
        self.metadata
            .get(key)
            .ok_or_else(|| GgufError::Format(format!("no metadata {key}")))
    }

    /// A required unsigned integer.
    pub(crate) fn usize(&self, key: &str) -> Result<usize, GgufError> {
        self.get(key)?
            .as_u64()
            .map(|v| v as usize)
            .ok_or_else(|| GgufError::Format(format!("metadata {key} is not an integer")))
    }

    /// A required string array (the tokenizer's vocabulary and merges).
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<&str>, GgufError> {
        match self.get(key)? {
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_str().ok_or_else(|| {
                        GgufError::Format(format!("metadata {key} holds a non-string"))
                    })
                })
                .collect(),
            _ => Err(GgufError::Format(format!("metadata {key} is not an array"))),
        }
    }

    /// An optional integer array (token types).
    pub(crate) fn ints(&self, key: &str) -> Option<Vec<i64>> {
        match self.metadata.get(key)? {
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::Int(i) => Some(*i),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }
}

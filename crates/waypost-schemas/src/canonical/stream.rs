//! The canonical form written straight from a [`Serialize`] value, with
//! no [`serde_json::Value`] tree in between: the same bytes as
//! [`super::canonical_owned`] of the value's JSON, at a fraction of the
//! allocations (one buffer per object and per unordered array, none per
//! field; an object's and an array's buffers, the path and the map key
//! are kept per thread for the next value).
//! Thousands of gap and action ids are derived per scan and plan.
//!
//! Sameness with the tree form is what makes this safe: JSON's rules are
//! followed as `serde_json::to_value` applies them (floats as `f64`,
//! non-finite numbers as `null`, enum variants as serde_json writes them,
//! a later duplicate key replacing an earlier one), and a property test
//! compares both forms on arbitrary JSON and path sets.

use std::fmt::Display;
use std::ops::Range;

use serde::ser::{self, Impossible, Serialize};

use crate::kind::FieldPath;

/// Canonical bytes of `value`'s JSON with `drop` removed and `unordered`
/// sorted (see [`super::canonical_owned`]).
pub(crate) fn canonical<T: Serialize + ?Sized>(
    value: &T,
    drop: &[FieldPath],
    unordered: &[FieldPath],
) -> Result<Vec<u8>, Error> {
    let rules = Rules { drop, unordered };
    let mut out = Vec::with_capacity(256);
    let mut path: Path = spare(|s| s.path.take());
    path.depth = 0;
    let tracked = rules.reaches(path.get()).then_some(&mut path);
    let written = value.serialize(Writer {
        out: &mut out,
        rules: &rules,
        path: tracked,
    });
    let _ = SPARE.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            s.path = Some(path);
        }
    });
    written?;
    Ok(out)
}

/// Why a value has no JSON form (a map key that is not a string, a number
/// JSON cannot hold, a `Serialize` implementation that failed).
#[derive(Debug)]
pub(crate) struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Where a value sits: its keys from the root (`*` for an array
/// element). Segments keep their room when popped, so following a path
/// allocates only as it first gets deep.
#[derive(Default)]
struct Path {
    segments: Vec<String>,
    depth: usize,
}

impl Path {
    fn push(&mut self, segment: &str) {
        match self.segments.get_mut(self.depth) {
            Some(room) => {
                room.clear();
                room.push_str(segment);
            }
            None => self.segments.push(segment.to_owned()),
        }
        self.depth += 1;
    }

    fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn get(&self) -> &[String] {
        &self.segments[..self.depth]
    }
}

/// An object's entries as written: each one's raw key and written entry.
type Entries = Vec<(Range<usize>, Range<usize>)>;

/// Buffers of values written before on this thread, kept for the next
/// ones: an id is derived per gap and per action, each value holding a
/// few objects and unordered arrays, and each of those needs a buffer.
#[derive(Default)]
struct Spare {
    bytes: Vec<Vec<u8>>,
    entries: Vec<Entries>,
    ranges: Vec<Vec<Range<usize>>>,
    path: Option<Path>,
}

thread_local! {
    static SPARE: std::cell::RefCell<Spare> = std::cell::RefCell::new(Spare::default());
}

/// At most this many buffers of each kind are kept per thread, each of at
/// most [`SPARE_BYTES`]: enough for values nested a few levels deep.
const SPARE_COUNT: usize = 16;
const SPARE_BYTES: usize = 64 * 1024;

/// A buffer from the thread's spares, or a new one.
fn spare<T: Default>(pick: impl FnOnce(&mut Spare) -> Option<T>) -> T {
    SPARE
        .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| pick(&mut s)))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Gives `buffer` (emptied) back to the thread's spares, if there is room.
fn give_back<T>(buffer: Vec<T>, pick: impl FnOnce(&mut Spare) -> &mut Vec<Vec<T>>) {
    if buffer.capacity() == 0 || buffer.capacity() * std::mem::size_of::<T>() > SPARE_BYTES {
        return;
    }
    let mut buffer = buffer;
    buffer.clear();
    let _ = SPARE.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            let list = pick(&mut s);
            if list.len() < SPARE_COUNT {
                list.push(buffer);
            }
        }
    });
}

/// The paths to drop and the arrays to sort. An array element is the
/// segment `*` (as an object key `*` is: the tree form matches both).
struct Rules<'a> {
    drop: &'a [FieldPath],
    unordered: &'a [FieldPath],
}

impl Rules<'_> {
    fn matches(list: &[FieldPath], path: &[String]) -> bool {
        list.iter().any(|p| {
            p.len() == path.len() && p.iter().zip(path).all(|(want, seg)| *want == seg.as_str())
        })
    }

    /// Whether some rule names `path` or a path below it: only then is
    /// the path followed further (most of a value is under no rule).
    fn reaches(&self, path: &[String]) -> bool {
        self.drop.iter().chain(self.unordered).any(|p| {
            p.len() >= path.len() && p.iter().zip(path).all(|(want, seg)| *want == seg.as_str())
        })
    }

    fn unordered(&self, path: Option<&Path>) -> bool {
        path.is_some_and(|p| Self::matches(self.unordered, p.get()))
    }
}

/// Writes one JSON value to `out`. `path` is where it sits, while some
/// rule reaches below it.
struct Writer<'w> {
    out: &'w mut Vec<u8>,
    rules: &'w Rules<'w>,
    path: Option<&'w mut Path>,
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaping, the same the tree form is written with.
    let mut ser = serde_json::Serializer::new(&mut *out);
    ser::Serializer::serialize_str(&mut ser, s).expect("writing to a Vec cannot fail");
}

fn write_scalar<T: Serialize>(out: &mut Vec<u8>, value: T) {
    serde_json::to_writer(&mut *out, &value).expect("writing a JSON scalar to a Vec cannot fail");
}

impl<'w> Writer<'w> {
    fn array(self, len: Option<usize>) -> Array<'w> {
        let sorted = self.rules.unordered(self.path.as_deref());
        let mut path = self.path;
        if let Some(p) = path.as_deref_mut() {
            p.push("*");
        }
        let path = match path {
            Some(p) if self.rules.reaches(p.get()) => Some(p),
            Some(p) => {
                p.pop();
                None
            }
            None => None,
        };
        let array = Array {
            out: self.out,
            rules: self.rules,
            path,
            sorted: sorted.then(|| {
                let mut bytes: Vec<u8> = spare(|s| s.bytes.pop());
                bytes.reserve(len.unwrap_or(0) * 32);
                (bytes, spare(|s| s.ranges.pop()))
            }),
            first: true,
        };
        if array.sorted.is_none() {
            array.out.push(b'[');
        }
        array
    }

    fn object(self) -> Object<'w> {
        Object {
            out: self.out,
            rules: self.rules,
            path: self.path,
            buf: spare(|s| s.bytes.pop()),
            entries: spare(|s| s.entries.pop()),
            key: String::new(),
            keyed: false,
        }
    }

    /// `{"variant": …}`, as serde_json writes a variant with content.
    fn variant(self, name: &'static str) -> Object<'w> {
        let mut object = self.object();
        object.key.push_str(name);
        object.keyed = true;
        object
    }
}

/// Scalars JSON writes as they are.
macro_rules! scalars {
    ($($method:ident: $type:ty),*) => {$(
        fn $method(self, v: $type) -> Result<(), Error> {
            write_scalar(self.out, v);
            Ok(())
        }
    )*};
}

impl<'w> ser::Serializer for Writer<'w> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'w>;
    type SerializeTuple = Array<'w>;
    type SerializeTupleStruct = Array<'w>;
    type SerializeTupleVariant = Variant<'w>;
    type SerializeMap = Object<'w>;
    type SerializeStruct = Object<'w>;
    type SerializeStructVariant = Variant<'w>;

    scalars!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64
    );
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        // As serde_json's tree holds it: within 64 bits, or not at all.
        if let Ok(v) = i64::try_from(v) {
            write_scalar(self.out, v);
        } else if let Ok(v) = u64::try_from(v) {
            write_scalar(self.out, v);
        } else {
            return Err(Error("number out of range".into()));
        }
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        let v = u64::try_from(v).map_err(|_| Error("number out of range".into()))?;
        write_scalar(self.out, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // The tree holds every float as an f64.
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        // Not finite: `null`, as in the tree.
        write_scalar(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let mut seq = ser::Serializer::serialize_seq(self, Some(v.len()))?;
        for byte in v {
            ser::SerializeSeq::serialize_element(&mut seq, byte)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        write_str(self.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut object = self.variant(variant);
        ser::SerializeMap::serialize_value(&mut object, value)?;
        ser::SerializeMap::end(object)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Array<'w>, Error> {
        Ok(self.array(len))
    }
    fn serialize_tuple(self, len: usize) -> Result<Array<'w>, Error> {
        Ok(self.array(Some(len)))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Array<'w>, Error> {
        Ok(self.array(Some(len)))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Ok(Variant {
            object: self.variant(variant),
            buf: Vec::new(),
            fields: Vec::new(),
            tuple: true,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'w>, Error> {
        Ok(self.object())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Object<'w>, Error> {
        Ok(self.object())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Ok(Variant {
            object: self.variant(variant),
            buf: Vec::new(),
            fields: Vec::new(),
            tuple: false,
        })
    }
}

/// A JSON array being written: straight to `out`, or, when its order
/// carries no meaning, element by element into `sorted` (the bytes and
/// each element's range) to be sorted at the end.
pub(crate) struct Array<'w> {
    out: &'w mut Vec<u8>,
    rules: &'w Rules<'w>,
    /// With `*` pushed, while some rule reaches below the elements.
    path: Option<&'w mut Path>,
    sorted: Option<(Vec<u8>, Vec<Range<usize>>)>,
    first: bool,
}

impl Array<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let path = self.path.as_deref_mut();
        match &mut self.sorted {
            Some((buf, ranges)) => {
                let start = buf.len();
                value.serialize(Writer {
                    out: buf,
                    rules: self.rules,
                    path,
                })?;
                ranges.push(start..buf.len());
            }
            None => {
                if !std::mem::take(&mut self.first) {
                    self.out.push(b',');
                }
                value.serialize(Writer {
                    out: self.out,
                    rules: self.rules,
                    path,
                })?;
            }
        }
        Ok(())
    }

    fn finish(mut self) {
        if let Some(p) = self.path.take() {
            p.pop();
        }
        match self.sorted.take() {
            Some((buf, mut ranges)) => {
                ranges.sort_by(|a, b| buf[a.clone()].cmp(&buf[b.clone()]));
                write_joined(self.out, b'[', ranges.iter().map(|r| &buf[r.clone()]), b']');
                give_back(buf, |s| &mut s.bytes);
                give_back(ranges, |s| &mut s.ranges);
            }
            None => self.out.push(b']'),
        }
    }
}

/// The three ways serde hands over an array's elements.
macro_rules! array_impl {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish();
                Ok(())
            }
        }
    )*};
}

array_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

/// A JSON object being written: its entries go to `buf` (each entry's raw
/// key, then `"key":value`), and are written to `out` sorted by key when
/// it ends.
pub(crate) struct Object<'w> {
    out: &'w mut Vec<u8>,
    rules: &'w Rules<'w>,
    path: Option<&'w mut Path>,
    buf: Vec<u8>,
    /// Per entry: the raw key's range and the written entry's range.
    entries: Entries,
    /// The key of the entry whose value comes next, when `keyed`.
    key: String,
    keyed: bool,
}

impl Drop for Object<'_> {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.buf), |s| &mut s.bytes);
        give_back(std::mem::take(&mut self.entries), |s| &mut s.entries);
    }
}

impl Object<'_> {
    fn entry<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        self.entry_with(key, |writer| value.serialize(writer))
    }

    /// An entry whose value `write` writes, unless a rule drops it.
    fn entry_with(
        &mut self,
        key: &str,
        write: impl FnOnce(Writer<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let path = match self.path.as_deref_mut() {
            Some(p) => {
                p.push(key);
                if Rules::matches(self.rules.drop, p.get()) {
                    p.pop();
                    return Ok(());
                }
                Some(p)
            }
            None => None,
        };
        let raw = self.buf.len()..self.buf.len() + key.len();
        self.buf.extend_from_slice(key.as_bytes());
        let start = self.buf.len();
        write_str(&mut self.buf, key);
        self.buf.push(b':');
        let result = match path {
            Some(p) => {
                let below = self.rules.reaches(p.get());
                let result = write(Writer {
                    out: &mut self.buf,
                    rules: self.rules,
                    path: below.then_some(&mut *p),
                });
                p.pop();
                result
            }
            None => write(Writer {
                out: &mut self.buf,
                rules: self.rules,
                path: None,
            }),
        };
        result?;
        self.entries.push((raw, start..self.buf.len()));
        Ok(())
    }

    fn finish(mut self) {
        write_object(self.out, &self.buf, &mut self.entries);
    }
}

/// `{…}` of the entries written to `buf` (each: its raw key's range and
/// the written `"key":value`'s range), sorted by key; of equal keys the
/// last one written stays, as a map keeps the last value inserted.
fn write_object(out: &mut Vec<u8>, buf: &[u8], entries: &mut [(Range<usize>, Range<usize>)]) {
    entries.sort_by(|a, b| buf[a.0.clone()].cmp(&buf[b.0.clone()]));
    let kept = entries.iter().enumerate().filter(|(i, (key, _))| {
        entries
            .get(i + 1)
            .is_none_or(|(next, _)| buf[next.clone()] != buf[key.clone()])
    });
    write_joined(
        out,
        b'{',
        kept.map(|(_, (_, entry))| &buf[entry.clone()]),
        b'}',
    );
}

/// `open`, the `items` joined by commas, `close`.
fn write_joined<'b>(out: &mut Vec<u8>, open: u8, items: impl Iterator<Item = &'b [u8]>, close: u8) {
    out.push(open);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(close);
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // A key that fails to write leaves no key for the next value.
        self.keyed = false;
        self.key.clear();
        key.serialize(KeyWriter(&mut self.key))?;
        self.keyed = true;
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !std::mem::take(&mut self.keyed) {
            return Err(Error("a map value came without its key".into()));
        }
        let key = std::mem::take(&mut self.key);
        let result = self.entry(&key, value);
        self.key = key;
        result
    }
    fn end(self) -> Result<(), Error> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.entry(key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish();
        Ok(())
    }
}

/// `{"variant": [...]}` or `{"variant": {...}}`: the fields are written
/// to `buf` as an object's entries are (a tuple's with no key), and put
/// together under the variant's name when it ends. No rule reaches into a
/// variant's content: paths name artifact fields, and no artifact holds
/// such variants.
pub(crate) struct Variant<'w> {
    object: Object<'w>,
    buf: Vec<u8>,
    /// Per field: its raw name's range and the written field's range.
    fields: Vec<(Range<usize>, Range<usize>)>,
    tuple: bool,
}

impl Variant<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        let raw = self.buf.len()..self.buf.len() + key.len();
        self.buf.extend_from_slice(key.as_bytes());
        let start = self.buf.len();
        if !self.tuple {
            write_str(&mut self.buf, key);
            self.buf.push(b':');
        }
        value.serialize(Writer {
            out: &mut self.buf,
            rules: self.object.rules,
            path: None,
        })?;
        self.fields.push((raw, start..self.buf.len()));
        Ok(())
    }

    fn finish(mut self) -> Result<(), Error> {
        let mut content = Vec::new();
        if self.tuple {
            let items = self
                .fields
                .iter()
                .map(|(_, field)| &self.buf[field.clone()]);
            write_joined(&mut content, b'[', items, b']');
        } else {
            write_object(&mut content, &self.buf, &mut self.fields);
        }
        let key = std::mem::take(&mut self.object.key);
        self.object.keyed = false;
        self.object.entry_with(&key, |writer| {
            writer.out.extend_from_slice(&content);
            Ok(())
        })?;
        self.object.finish();
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Variant<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.push("", value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Variant<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.push(key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// A map key as serde_json's tree takes it: a string, or a number, a
/// `bool` or a `char` written as one.
struct KeyWriter<'k>(&'k mut String);

fn key_error() -> Error {
    Error("a map key must be a string".into())
}

/// Keys serde_json's tree writes as their text.
macro_rules! key_texts {
    ($($method:ident: $type:ty),*) => {$(
        fn $method(self, v: $type) -> Result<(), Error> {
            use std::fmt::Write as _;
            write!(self.0, "{v}").expect("writing to a String cannot fail");
            Ok(())
        }
    )*};
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    key_texts!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_char: char
    );
    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.0.push_str(v);
        Ok(())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.0.push_str(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::super::canonical_owned;
    use crate::kind::FieldPath;

    /// Keys that sort in interesting ways (escapes, non-ASCII, `*`), few
    /// enough that paths and duplicates meet.
    const KEYS: [&str; 8] = ["a", "b", "*", "z\"q", "é", "\u{1}", "ab", "\u{1F600}"];

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z\\u{0}-\\u{1f}\"\\\\é😀]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((0..KEYS.len(), inner), 0..6).prop_map(|entries| {
                    Value::Object(
                        entries
                            .into_iter()
                            .map(|(k, v)| (KEYS[k].to_owned(), v))
                            .collect(),
                    )
                }),
            ]
        })
    }

    /// Rule paths over the same keys, `*` for array elements.
    fn paths() -> impl Strategy<Value = Vec<Vec<&'static str>>> {
        prop::collection::vec(
            prop::collection::vec(prop::sample::select(&KEYS[..3]), 1..4),
            0..4,
        )
    }

    fn both(value: &Value, drop: &[Vec<&'static str>], unordered: &[Vec<&'static str>]) {
        // Rule paths are static in the library; leaked here, in a test.
        let leak = |paths: &[Vec<&'static str>]| -> Vec<FieldPath> {
            paths
                .iter()
                .map(|p| &*Box::leak(p.clone().into_boxed_slice()))
                .collect()
        };
        let (drop, unordered) = (leak(drop), leak(unordered));
        let tree = canonical_owned(value.clone(), &drop, &unordered);
        let streamed = super::canonical(value, &drop, &unordered).expect("JSON serializes");
        assert_eq!(
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&tree),
            "value {value}, drop {drop:?}, unordered {unordered:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        #[test]
        fn streamed_bytes_are_the_tree_forms(value in json(), drop in paths(), unordered in paths()) {
            both(&value, &drop, &unordered);
        }
    }

    #[test]
    fn rules_meet_nested_arrays_and_objects() {
        let value = json!({"a": [{"b": [3, 1, 2], "*": 1}, {"b": [2, 1]}], "b": {"*": [2, 1]}});
        both(&value, &[], &[vec!["a", "*", "b"], vec!["a"]]);
        both(&value, &[vec!["a", "*", "*"]], &[vec!["b", "*"]]);
        both(&value, &[vec!["a"]], &[]);
    }

    #[derive(serde::Serialize)]
    enum Shapes {
        Unit,
        Newtype(u8),
        Tuple(u8, &'static str),
        Struct { b: u8, a: f32 },
    }

    #[derive(serde::Serialize)]
    struct Holder {
        shapes: Vec<Shapes>,
        bytes: &'static [u8],
        wide: i128,
        key: std::collections::BTreeMap<u32, char>,
        missing: Option<u8>,
        unit: (),
    }

    #[test]
    fn every_serde_shape_writes_as_serde_jsons_tree() {
        let holder = Holder {
            shapes: vec![
                Shapes::Unit,
                Shapes::Newtype(1),
                Shapes::Tuple(2, "x"),
                Shapes::Struct { b: 3, a: 0.1 },
            ],
            bytes: b"hi",
            wide: -5,
            key: [(10, 'x'), (9, 'y')].into_iter().collect(),
            missing: None,
            unit: (),
        };
        let tree = canonical_owned(serde_json::to_value(&holder).expect("json"), &[], &[]);
        let streamed = super::canonical(&holder, &[], &[]).expect("serializes");
        assert_eq!(
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&tree)
        );
        assert!(super::canonical(&u128::MAX, &[], &[]).is_err());
        let float_key: std::collections::BTreeMap<String, f64> =
            [("k".to_owned(), f64::NAN)].into_iter().collect();
        assert_eq!(
            super::canonical(&float_key, &[], &[]).expect("json"),
            br#"{"k":null}"#
        );
    }

    /// A map whose keys are tuples: JSON has no key for them.
    type TupleKeys = std::collections::BTreeMap<(u8, u8), u8>;

    /// Fails when written: a key that is not a string, deep in a value.
    #[derive(serde::Serialize)]
    struct FailsDeep {
        a: Vec<std::collections::BTreeMap<String, TupleKeys>>,
    }

    /// An array that says it holds one element and gives `elements`.
    struct SaysOne(Vec<u8>);

    impl serde::Serialize for SaysOne {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut seq = serializer.serialize_seq(Some(1))?;
            for element in &self.0 {
                seq.serialize_element(element)?;
            }
            seq.end()
        }
    }

    #[test]
    fn an_unordered_array_longer_than_it_said_is_still_sorted() {
        let mut map = std::collections::BTreeMap::new();
        for (key, elements) in [
            ("a", vec![3, 1, 2]),
            ("b", vec![2]),
            ("c", vec![]),
            ("d", vec![9, 8]),
        ] {
            map.insert(key, SaysOne(elements));
        }
        let unordered: Vec<FieldPath> = vec![&["a"], &["b"], &["c"], &["d"]];
        let tree = canonical_owned(serde_json::to_value(&map).expect("json"), &[], &unordered);
        assert_eq!(
            String::from_utf8_lossy(&super::canonical(&map, &[], &unordered).expect("json")),
            String::from_utf8_lossy(&tree)
        );
        assert_eq!(tree, br#"{"a":[1,2,3],"b":[2],"c":[],"d":[8,9]}"#);
    }

    /// Gives a key, then a key JSON cannot hold, ignores that error, and
    /// gives a value.
    struct SwallowsAKeyError;

    impl serde::Serialize for SwallowsAKeyError {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(None)?;
            map.serialize_key("k1")?;
            let _ = map.serialize_key(&(1, 2));
            map.serialize_value(&1)?;
            map.end()
        }
    }

    #[test]
    fn a_value_after_a_failed_key_has_no_key() {
        let written = super::canonical(&SwallowsAKeyError, &[], &[]);
        assert!(
            written
                .as_ref()
                .is_err_and(|e| e.to_string().contains("without its key")),
            "{written:?}"
        );
    }

    #[test]
    fn a_value_that_fails_midway_leaves_nothing_for_the_next_one() {
        // The thread's spare buffers and path are reused from value to
        // value: what a failed value had written, and how deep its path
        // went, must not reach the next one.
        let failing = FailsDeep {
            a: vec![
                [("x".to_owned(), [((1, 2), 3)].into_iter().collect())]
                    .into_iter()
                    .collect(),
            ],
        };
        let value = json!({"a": [{"b": [3, 1, 2]}, {"x": {"y": 1}}], "c": "d"});
        let unordered = vec![vec!["a", "*", "b"], vec!["a"]];
        for _ in 0..3 {
            assert!(
                super::canonical(&failing, &[], &[&["a", "*", "x"]]).is_err(),
                "a tuple is no key"
            );
            both(&value, &[vec!["c"]], &unordered);
        }
    }
}

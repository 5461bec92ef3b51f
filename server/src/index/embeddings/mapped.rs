//! Buffers of plain numbers in anonymous memory mappings of their own.
//!
//! The embedding work allocates large, short- or long-lived buffers (the
//! forward pass's activations, a store's codes read back, a corpus's
//! vectors: megabytes to tens of megabytes) from threads that come and go.
//! From the heap, glibc serves them from per-thread arenas and, once they
//! are freed, may keep that memory resident at the arena's top for good
//! (bench/RESULTS.md, session 13). A mapping of its own goes back to the
//! system whole when dropped. Should mapping fail, the buffer falls back to
//! the heap: memory, not errors.

/// Element types a mapping can hold: plain numbers for which every bit
/// pattern, all-zero included, is a valid value.
pub trait Plain: Copy + Default + 'static {}
impl Plain for f32 {}
impl Plain for i8 {}
impl Plain for u8 {}
impl Plain for u16 {}

/// `len` zeroed values of `T`, mapped or, failing that, on the heap.
pub struct MappedBuffer<T: Plain> {
    mapped: Option<memmap2::MmapMut>,
    heap: Vec<T>,
    len: usize,
}

impl<T: Plain> MappedBuffer<T> {
    pub fn zeroed(len: usize) -> MappedBuffer<T> {
        let bytes = len.saturating_mul(std::mem::size_of::<T>());
        match memmap2::MmapMut::map_anon(bytes) {
            // Empty buffers stay off the mapping syscalls.
            Ok(map) if bytes > 0 => MappedBuffer {
                mapped: Some(map),
                heap: Vec::new(),
                len,
            },
            _ => MappedBuffer {
                mapped: None,
                heap: vec![T::default(); len],
                len,
            },
        }
    }

    /// The first `len` values, the buffer mapped anew (zeroed) when it is
    /// shorter. Sizes are rounded up to a power of two so that a thread
    /// meeting longer and longer sequences maps a few times, not once per
    /// length.
    pub fn first(&mut self, len: usize) -> &mut [T] {
        if self.len < len {
            *self = MappedBuffer::zeroed(len.next_power_of_two());
        }
        &mut self[..len]
    }
}

impl<T: Plain> Default for MappedBuffer<T> {
    fn default() -> MappedBuffer<T> {
        MappedBuffer {
            mapped: None,
            heap: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Plain> std::ops::Deref for MappedBuffer<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match &self.mapped {
            // SAFETY: the mapping is page-aligned (so aligned for T), holds
            // `len` values of T, and every bit pattern is a T (`Plain`).
            Some(map) => unsafe { std::slice::from_raw_parts(map.as_ptr().cast::<T>(), self.len) },
            None => &self.heap,
        }
    }
}

impl<T: Plain> std::ops::DerefMut for MappedBuffer<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        let len = self.len;
        match &mut self.mapped {
            // SAFETY: as in `deref`, borrowed mutably through `self`.
            Some(map) => unsafe {
                std::slice::from_raw_parts_mut(map.as_mut_ptr().cast::<T>(), len)
            },
            None => &mut self.heap,
        }
    }
}

impl<T: Plain> Clone for MappedBuffer<T> {
    fn clone(&self) -> MappedBuffer<T> {
        let mut copy = MappedBuffer::zeroed(self.len);
        copy.copy_from_slice(self);
        copy
    }
}

impl<T: Plain> std::fmt::Debug for MappedBuffer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedBuffer")
            .field("len", &self.len)
            .field("mapped", &self.mapped.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_start_zeroed_hold_what_is_written_and_clone_whole() {
        let mut floats: MappedBuffer<f32> = MappedBuffer::zeroed(3000);
        assert_eq!(floats.len(), 3000);
        assert!(floats.iter().all(|&x| x == 0.0));
        floats[2999] = 1.5;
        floats[0] = -2.0;
        let copy = floats.clone();
        floats[0] = 0.0;
        assert_eq!((copy[0], copy[2999]), (-2.0, 1.5));
        let codes: MappedBuffer<i8> = MappedBuffer::zeroed(0);
        assert!(codes.is_empty());
        assert!(MappedBuffer::<u8>::default().is_empty());
    }
}

//! Seeded input mutation shared by the robustness tests (included with `#[path]`, outside `support`).

use rand::Rng;
use rand::rngs::StdRng;

/// Applies 1 to `max_edits - 1` random edits (replace, delete, insert, truncate) drawn from `alphabet`.
pub fn mutate(rng: &mut StdRng, seed: &[u8], alphabet: &[u8], max_edits: usize) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.random_range(1..max_edits) {
        if v.is_empty() {
            break;
        }
        let i = rng.random_range(0..v.len());
        match rng.random_range(0..4) {
            0 => v[i] = alphabet[rng.random_range(0..alphabet.len())],
            1 => {
                v.remove(i);
            }
            2 => v.insert(i, alphabet[rng.random_range(0..alphabet.len())]),
            _ => v.truncate(i),
        }
    }
    v
}

// Images with a position, and the small helpers every primitive shares.
//
// An image is a rectangle of colours 0..9 placed at (x, y) in the plane of its task grid: a
// piece cut out of a grid remembers where it was, so that later steps (compose, gravity,
// stacking) can put pieces back where they belong. Comparisons with a demonstration output look
// at the cells and the size only. Sides are capped at 30 (ARC's limit); an image with no cells
// marks a step that does not apply (`bad`).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace arc {

constexpr int MAXSIDE = 30;
constexpr int MAXCELLS = MAXSIDE * MAXSIDE;
// An image inside a ring of empty cells (see Padded in primitives.cpp).
constexpr int PADDED = (MAXSIDE + 2) * (MAXSIDE + 2);

// Cell buffers come from free lists of this thread, one per size in steps of 16 bytes up to
// 1 KiB (an image's 900 cells fit). Every application makes an image and most are dropped at
// once; malloc's per-thread cache holds only 7 buffers of a size, so with the many sizes a search
// makes, most of its mallocs and frees went the long way.
//
// The lists are plain data of the thread, which code reaches directly; a thread variable with a
// destructor is reached through a call that checks it is set up, at every buffer. So the lists'
// release at the thread's end hangs on a second variable, set up once, when the first buffer is
// kept.
class Buffers {
 public:
  // What the lists may hold: the rest goes back to malloc, so that a search that kept many
  // images of one size leaves no more than this unusable to others.
  static constexpr size_t STEP = 16, LARGEST = 1024, KEEP = size_t(32) << 20;
  void* take(size_t bytes) {
    if (bytes > LARGEST) return ::operator new(bytes);
    void*& head = free_[(bytes + STEP - 1) / STEP];
    if (!head) return ::operator new(round(bytes));
    void* p = head;
    head = *static_cast<void**>(p);
    kept_ -= round(bytes);
    return p;
  }
  void give(void* p, size_t bytes) {
    if (bytes > LARGEST || kept_ + round(bytes) > KEEP) return ::operator delete(p);
    if (!released_) released_ = release_at_exit();
    void*& head = free_[(bytes + STEP - 1) / STEP];
    *static_cast<void**>(p) = head;
    head = p;
    kept_ += round(bytes);
  }
  void release() {
    for (void*& head : free_)
      while (head) {
        void* next = *static_cast<void**>(head);
        ::operator delete(head);
        head = next;
      }
    kept_ = 0;
  }

 private:
  static bool release_at_exit();
  // At least a pointer's room, for the list's link.
  static size_t round(size_t bytes) { return std::max<size_t>(sizeof(void*), (bytes + STEP - 1) / STEP * STEP); }
  void* free_[LARGEST / STEP + 1];
  size_t kept_;     // bytes in the lists
  bool released_;  // whether release() is set to run at the thread's end
};

inline thread_local Buffers buffers __attribute__((tls_model("initial-exec")));

struct ReleaseBuffers {
  ~ReleaseBuffers() { buffers.release(); }
};

inline bool Buffers::release_at_exit() {
  static thread_local ReleaseBuffers at_exit;
  (void)at_exit;  // its first use sets its destructor to run
  return true;
}

template <class T>
struct FromBuffers {
  using value_type = T;
  FromBuffers() = default;
  template <class U>
  FromBuffers(const FromBuffers<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(buffers.take(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { buffers.give(p, n * sizeof(T)); }
  bool operator==(const FromBuffers&) const { return true; }
  bool operator!=(const FromBuffers&) const { return false; }
};

using Cells = std::vector<uint8_t, FromBuffers<uint8_t>>;

struct Img {
  int x = 0, y = 0, w = 0, h = 0;
  Cells m;

  Img() = default;
  Img(int x_, int y_, int w_, int h_, uint8_t fill = 0) : x(x_), y(y_), w(w_), h(h_), m(size_t(w_ * h_), fill) {}

  uint8_t& operator()(int i, int j) { return m[size_t(i * w + j)]; }
  uint8_t operator()(int i, int j) const { return m[size_t(i * w + j)]; }
  // Colour at (i, j), 0 outside.
  uint8_t safe(int i, int j) const { return (i < 0 || j < 0 || i >= h || j >= w) ? 0 : m[size_t(i * w + j)]; }
  bool bad() const { return w <= 0 || h <= 0 || w > MAXSIDE || h > MAXSIDE; }
  bool same_cells(const Img& o) const { return w == o.w && h == o.h && m == o.m; }
  bool operator==(const Img& o) const { return x == o.x && y == o.y && same_cells(o); }
};

using Imgs = std::vector<Img>;

inline Img bad() { return Img(); }
inline Img full(int x, int y, int w, int h, int c) { return Img(x, y, w, h, uint8_t(c)); }

inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

inline uint64_t hash_img(const Img& a, uint64_t h) {
  h = mix(h, uint64_t(uint32_t(a.x)) | (uint64_t(uint32_t(a.y)) << 32));
  h = mix(h, uint64_t(a.w) | (uint64_t(a.h) << 16));
  // Eight cells a step: hashing is a large part of every application.
  uint64_t acc = 1469598103934665603ULL;
  size_t n = a.m.size(), k = 0;
  for (; k + 8 <= n; k += 8) {
    uint64_t word;
    std::memcpy(&word, a.m.data() + k, 8);
    acc = (acc ^ word) * 0x9fb21c651e98df25ULL;
    acc ^= acc >> 29;
  }
  for (; k < n; k++) acc = (acc ^ a.m[k]) * 1099511628211ULL;
  return mix(h, acc);
}

inline int count_nonzero(const Img& a) {
  int n = 0;
  for (uint8_t c : a.m) n += c != 0;
  return n;
}

inline int colour_mask(const Img& a) {
  // Four masks ORed in turn: one would wait on itself every cell.
  int part[4] = {};
  size_t k = 0, size = a.m.size();
  const uint8_t* m = a.m.data();
  for (; k + 4 <= size; k += 4)
    part[0] |= 1 << m[k], part[1] |= 1 << m[k + 1], part[2] |= 1 << m[k + 2], part[3] |= 1 << m[k + 3];
  for (; k < size; k++) part[0] |= 1 << m[k];
  return part[0] | part[1] | part[2] | part[3];
}

inline int count_colours(const Img& a) { return __builtin_popcount(colour_mask(a) & ~1); }

// The cells of each colour, counted in four tables in turn: with one, a run of a colour would
// wait on its own count's store every cell.
inline void colour_counts(const Img& a, int* n) {
  int part[4][10] = {};
  size_t k = 0, size = a.m.size();
  const uint8_t* m = a.m.data();
  for (; k + 4 <= size; k += 4) part[0][m[k]]++, part[1][m[k + 1]]++, part[2][m[k + 2]]++, part[3][m[k + 3]]++;
  for (; k < size; k++) part[0][m[k]]++;
  for (int c = 0; c < 10; c++) n[c] = part[0][c] + part[1][c] + part[2][c] + part[3][c];
}

// The most frequent non-zero colour of `n` (cells per colour; ties: the lowest); 0 where there is
// none.
inline int most_frequent(const int* n) {
  int best = 1;
  for (int c = 2; c < 10; c++)
    if (n[c] > n[best]) best = c;
  return n[best] ? best : 0;
}

// 4-connected components of equal non-zero colour.
int count_components(const Img& a);

}  // namespace arc

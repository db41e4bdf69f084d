// The DSL's functions; ideas after icecuber's 2020 DSL (top-quarks/ARC-solution), code our own.
#include "primitives.hpp"

#include <array>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

namespace arc {

// Flood fills below keep their marks and stacks in arrays of the largest image's size: every
// cell is pushed at most once, and no application allocates for them.
//
// An image inside a ring of empty cells, so that a flood steps to a neighbour by an offset
// without bounds checks (and with no division to find a cell's row): cell (i, j) is at
// (i + 1) * W + j + 1. The ring is colour 0.
struct Padded {
  int W, cells;
  int step[8];  // the offsets of the 4 neighbours (right, left, down, up), then the 4 diagonal ones
  uint8_t v[(MAXSIDE + 2) * (MAXSIDE + 2)];
  explicit Padded(const Img& a)
      : W(a.w + 2), cells((a.w + 2) * (a.h + 2)), step{1, -1, W, -W, W + 1, W - 1, -W + 1, -W - 1} {
    std::fill(v, v + cells, uint8_t(0));
    for (int i = 0; i < a.h; i++) std::copy_n(a.m.data() + size_t(i * a.w), a.w, v + (i + 1) * W + 1);
  }
  int at(int i, int j) const { return (i + 1) * W + j + 1; }
};

int count_components(const Img& a) {
  Padded p(a);
  int stack[PADDED], n = 0;
  for (int i = 0; i < a.h; i++)
    for (int j = 0; j < a.w; j++) {
      int s = p.at(i, j);
      uint8_t c = p.v[s];
      if (!c || c > 9) continue;  // empty, or a cell already counted (marked c + 10)
      n++;
      p.v[s] = uint8_t(c + 10);
      int top = 0;
      stack[top++] = s;
      while (top) {
        int k = stack[--top];
        for (int d = 0; d < 4; d++)
          if (p.v[k + p.step[d]] == c) p.v[k + p.step[d]] = uint8_t(c + 10), stack[top++] = k + p.step[d];
      }
    }
  return n;
}

// --- image -> image -------------------------------------------------------------------------

Img invert(const Img& a) {
  int mask = colour_mask(a);
  int col = 1;
  while (col < 10 && !(mask >> col & 1)) col++;
  if (col == 10) col = 1;
  Img r = a;
  for (auto& c : r.m) c = c ? 0 : uint8_t(col);
  return r;
}

Img filter_colour(const Img& a, int c) {
  if (c == 0) return invert(a);
  // Colours as bytes: compared as ints, every cell would widen and the loop not vectorise.
  uint8_t col = uint8_t(c);
  Img r = a;
  for (auto& v : r.m) v = v == col ? col : 0;
  return r;
}

Img erase_colour(const Img& a, int c) {
  uint8_t col = uint8_t(c);
  Img r = a;
  for (auto& v : r.m) v = v == col ? 0 : v;
  return r;
}

Img colour_shape(const Img& a, int c) {
  uint8_t col = uint8_t(c);
  Img r = a;
  for (auto& v : r.m) v = v ? col : 0;
  return r;
}

static Img sub_image(const Img& a, int x0, int y0, int w, int h) {
  if (w <= 0 || h <= 0 || x0 < 0 || y0 < 0 || x0 + w > a.w || y0 + h > a.h) return bad();
  Img r(a.x + x0, a.y + y0, w, h);
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++) r(i, j) = a(i + y0, j + x0);
  return r;
}

// Per row, whether it has a non-zero cell; per column likewise (ORed down the rows, a loop the
// compiler vectorises).
static void filled_lines(const Img& a, uint8_t* rows, uint8_t* columns) {
  std::fill(columns, columns + a.w, uint8_t(0));
  for (int i = 0; i < a.h; i++) {
    const uint8_t* __restrict row = a.m.data() + i * a.w;
    uint8_t* __restrict column = columns;
    uint8_t any = 0;
    for (int j = 0; j < a.w; j++) any |= row[j], column[j] |= row[j];
    rows[i] = any;
  }
}

Img compress(const Img& a) {
  uint8_t rows[MAXSIDE], columns[MAXSIDE];
  filled_lines(a, rows, columns);
  int y0 = 0, y1 = a.h - 1, x0 = 0, x1 = a.w - 1;
  while (y0 < a.h && !rows[y0]) y0++;
  if (y0 == a.h) return bad();
  while (!rows[y1]) y1--;
  while (!columns[x0]) x0++;
  while (!columns[x1]) x1--;
  return sub_image(a, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
}

// The cells of `a` in the rows and columns whose flags are set, at the origin.
static Img pick_rows_cols(const Img& a, const uint8_t* keep_rows, const uint8_t* keep_columns) {
  int rows[MAXSIDE], cols[MAXSIDE], nr = 0, nc = 0;
  for (int i = 0; i < a.h; i++)
    if (keep_rows[i]) rows[nr++] = i;
  for (int j = 0; j < a.w; j++)
    if (keep_columns[j]) cols[nc++] = j;
  if (!nr || !nc) return bad();
  Img r(0, 0, nc, nr);
  for (int i = 0; i < nr; i++)
    for (int j = 0; j < nc; j++) r(i, j) = a(rows[i], cols[j]);
  return r;
}

Img compress_rows_cols(const Img& a) {
  uint8_t rows[MAXSIDE], columns[MAXSIDE];
  filled_lines(a, rows, columns);
  return pick_rows_cols(a, rows, columns);
}

Img compress_repeats(const Img& a) {
  // Rows unlike the row before, and columns unlike the column before in some row (the first of
  // each kept).
  uint8_t rows[MAXSIDE], columns[MAXSIDE] = {1};
  rows[0] = 1;
  for (int i = 1; i < a.h; i++)
    rows[i] = std::memcmp(a.m.data() + i * a.w, a.m.data() + (i - 1) * a.w, size_t(a.w)) != 0;
  for (int i = 0; i < a.h; i++) {
    const uint8_t* __restrict row = a.m.data() + i * a.w;
    uint8_t* __restrict column = columns;
    for (int j = 1; j < a.w; j++) column[j] |= uint8_t(row[j] != row[j - 1]);
  }
  return pick_rows_cols(a, rows, columns);
}

Img get_pos(Facts& f) { return full(f.img().x, f.img().y, 1, 1, f.majority()); }
Img get_size(Facts& f) { return full(0, 0, f.img().w, f.img().h, f.majority()); }
Img get_size0(const Img& a) { return full(0, 0, a.w, a.h, 0); }
Img hull(Facts& f) { return full(f.img().x, f.img().y, f.img().w, f.img().h, f.majority()); }
Img hull0(const Img& a) { return full(a.x, a.y, a.w, a.h, 0); }
Img to_origin(Img a) {
  a.x = a.y = 0;
  return a;
}

// The bits of `seeds` and every bit joined to one through consecutive bits of `through` (seeds
// among them): a run-fill of one row. Toward the high bits by one addition (the carry from each
// seed runs through the ones of its run); toward the low bits by doubling steps, five for a row
// of at most 32 bits.
static uint64_t fill_runs(uint64_t seeds, uint64_t through) {
  uint64_t up = ((through + seeds) ^ through) & through;
  uint64_t down = seeds, p = through;
  for (int d = 1; d < 32; d *= 2) down |= p & (down >> d), p &= p >> d;
  return up | down;
}

// Per row of the image inside its ring of empty cells (rows 0 and h + 1 the ring's; bit j + 1
// for column j, bits 0 and w + 1 the ring's): the cells reached from the ring through empty
// cells, 4- or 8-connectedly. Rows are swept down and up, each filled along its runs, until
// nothing changes.
static void outside(const Img& a, bool diagonal, uint64_t* reached) {
  int w = a.w, h = a.h;
  uint64_t ring = 1 | uint64_t(1) << (w + 1), all = (uint64_t(1) << (w + 2)) - 1;
  uint64_t empty[MAXSIDE + 2];
  empty[0] = empty[h + 1] = reached[0] = reached[h + 1] = all;
  for (int i = 0; i < h; i++) {
    uint64_t e = ring;
    for (int j = 0; j < w; j++) e |= uint64_t(a(i, j) == 0) << (j + 1);
    empty[i + 1] = e, reached[i + 1] = ring;
  }
  auto near = [diagonal](uint64_t x) { return diagonal ? x | x << 1 | x >> 1 : x; };
  // After a sweep, every row holds what the row before it in that sweep brings; so once a sweep
  // after the first changes nothing, both directions hold and the flood is complete.
  for (int sweep = 0;; sweep++) {
    bool down = sweep % 2 == 0, changed = false;
    for (int t = 1; t <= h; t++) {
      int i = down ? t : h + 1 - t, from = down ? i - 1 : i + 1;
      uint64_t r = fill_runs(reached[i] | (near(reached[from]) & empty[i]), empty[i]);
      changed |= r != reached[i];
      reached[i] = r;
    }
    if (!changed && sweep > 0) return;
  }
}

Img fill_holes(Facts& f) { return f.filled(); }

// Each cell of `out` kept where `by` is empty, else 0: with a mask, not a branch, so that it
// vectorises (as the other loops here that choose per cell).
static void clear_where(uint8_t* __restrict out, const uint8_t* __restrict by, size_t n) {
  for (size_t k = 0; k < n; k++) out[k] &= uint8_t(-(by[k] == 0));
}

// The empty cells of `out` take the colour of `from`.
static void fill_empty(uint8_t* __restrict out, const uint8_t* __restrict from, size_t n) {
  for (size_t k = 0; k < n; k++) out[k] = uint8_t(out[k] | (from[k] & uint8_t(-(out[k] == 0))));
}

Img interior(Facts& f) {
  Img r = f.filled();
  clear_where(r.m.data(), f.img().m.data(), r.m.size());
  return r;
}

Img interior(const Img& a) {
  Facts f(a);
  return interior(f);
}

Img border(Facts& f) { return f.border(); }

Img interior2(Facts& f) {
  Img r = f.img();
  clear_where(r.m.data(), f.border().m.data(), r.m.size());
  return r;
}

Img centre(const Img& a) {
  int w = (a.w + 1) % 2 + 1, h = (a.h + 1) % 2 + 1;
  return full(a.x + (a.w - w) / 2, a.y + (a.h - h) / 2, w, h, 1);
}

Img majority_image(Facts& f) { return full(0, 0, 1, 1, f.majority()); }

static bool swaps_sides(int id) { return id == 1 || id == 3 || id == 6 || id == 7; }

// Where rigid map `id` sends cell (i, j) of a w x h image, as an index into the result (rw
// wide): base + i * di + j * dj.
struct Placement {
  int base, di, dj;
};

static Placement placement(int id, int w, int h, int rw) {
  switch (id) {
    case 1: return {(w - 1) * rw, 1, -rw};           // anticlockwise: (w-1-j, i)
    case 2: return {(h - 1) * rw + w - 1, -rw, -1};  // (h-1-i, w-1-j)
    case 3: return {h - 1, -1, rw};                  // clockwise: (j, h-1-i)
    case 4: return {w - 1, rw, -1};                  // flip left-right: (i, w-1-j)
    case 5: return {(h - 1) * rw, -rw, 1};           // flip up-down: (h-1-i, j)
    case 6: return {0, 1, rw};                       // transpose: (j, i)
    case 7: return {(w - 1) * rw + h - 1, -1, -rw};  // anti-transpose: (w-1-j, h-1-i)
    default: return {0, rw, 1};
  }
}

Img rigid(const Img& a, int id) {
  bool swap = swaps_sides(id);
  Img r(a.x, a.y, swap ? a.h : a.w, swap ? a.w : a.h);
  Placement p = placement(id, a.w, a.h, r.w);
  const uint8_t* __restrict src = a.m.data();
  uint8_t* __restrict out = r.m.data();
  int w = a.w, h = a.h;
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++) out[p.base + i * p.di + j * p.dj] = src[i * w + j];
  return r;
}

// The non-zero colours the image shows.
static int colours(Facts& f) {
  int n = 0;
  for (int c = 1; c < 10; c++) n += f.counts()[c] > 0;
  return n;
}

Img count_image(Facts& f, int what, int shape) {
  const Img& a = f.img();
  int n = what == 0 ? a.w * a.h - f.counts()[0] : what == 1 ? colours(f) : f.components();
  if (n <= 0 || n > MAXSIDE) return bad();
  int w = shape == 2 ? 1 : n, h = shape == 1 ? 1 : n;  // square, row, column
  return full(0, 0, w, h, f.majority());
}

// The 8 ray directions (dx, dy): right, left, down, up, then the diagonals.
static const int RAY_STEP[8][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, 1}, {-1, -1}, {1, -1}, {-1, 1}};

// Each empty cell's colour from a ray along RAY_STEP[d]: the last colour the ray passed, else 0
// (0 on the filled cells too). Along a row, one scan; across rows, row after row in the ray's
// order, each cell carrying on the colour of the cell before it on the ray (in the row before,
// dx columns back).
// One row of a ray across rows: each cell's colour, else the one `from` brings (the row before,
// shifted along the ray), to `carried`; to `out` only where the cell is empty.
static void ray_row(const uint8_t* __restrict row, const uint8_t* __restrict from, uint8_t* __restrict carried,
                    uint8_t* __restrict out, int w) {
  // With masks: GCC left `v ? v : from[j]` a branch (it reads `from` on one side only), and the
  // loop scalar.
  for (int j = 0; j < w; j++) {
    uint8_t v = row[j], empty = uint8_t(-(v == 0)), c = uint8_t(v | (from[j] & empty));
    carried[j] = c;
    out[j] = c & empty;
  }
}

static void rays_along(const Img& a, int d, uint8_t* __restrict out) {
  int dx = RAY_STEP[d][0], dy = RAY_STEP[d][1], w = a.w, h = a.h;
  const uint8_t* __restrict src = a.m.data();
  if (dy == 0) {
    for (int i = 0; i < h; i++) {
      uint8_t c = 0;
      for (int t = 0; t < w; t++) {
        int k = i * w + (dx > 0 ? t : w - 1 - t);
        uint8_t v = src[k];
        c = v ? v : c;
        out[k] = v ? 0 : c;
      }
    }
    return;
  }
  // before[j + 1] is column j of the row before; its [0] and [w + 1] stay 0 (outside). Two
  // buffers that swap, so that each row's step is a loop over distinct arrays, which vectorises.
  uint8_t buffers[2][MAXSIDE + 2] = {};
  uint8_t *before = buffers[0], *now = buffers[1];
  for (int s = 0; s < h; s++) {
    int i = dy > 0 ? s : h - 1 - s;
    ray_row(src + i * w, before + 1 - dx, now + 1, out + i * w, w);
    std::swap(before, now);
  }
}

Img smear(Facts& f, int id) {
  // The directions of each set, as indices into RAY_STEP; the later ones win a cell.
  static const std::vector<int> sets[15] = {{0}, {1}, {2}, {3}, {0, 1}, {2, 3}, {0, 1, 2, 3}, {4}, {5}, {6}, {7},
                                            {4, 5}, {6, 7}, {4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7}};
  Img r = f.img();
  uint8_t* __restrict out = r.m.data();
  int n = int(r.m.size());
  for (int d : sets[id]) {
    const uint8_t* __restrict ray = f.ray(d);
    for (int k = 0; k < n; k++) out[k] = ray[k] ? ray[k] : out[k];
  }
  return r;
}

// One row of make_border: the padded rows above, at and below it (cell j at [j + 1]).
static void border_row(const uint8_t* __restrict up, const uint8_t* __restrict mid, const uint8_t* __restrict down,
                       uint8_t* __restrict out, int w) {
  for (int j = 0; j < w; j++) {
    uint8_t near = up[j] | up[j + 1] | up[j + 2] | mid[j] | mid[j + 2] | down[j] | down[j + 1] | down[j + 2];
    out[j] = uint8_t((mid[j + 1] == 0) & (near != 0));
  }
}

Img make_border(const Img& a) {
  // The empty cells with a filled cell among their 8 neighbours, as 1.
  Padded p(a);
  Img r(a.x, a.y, a.w, a.h);
  for (int i = 0; i < a.h; i++)
    border_row(p.v + i * p.W, p.v + (i + 1) * p.W, p.v + (i + 2) * p.W, r.m.data() + i * a.w, a.w);
  return r;
}

Img make_border2(Facts& f, bool majority) {
  const Img& a = f.img();
  if (a.w + 2 > MAXSIDE || a.h + 2 > MAXSIDE) return bad();
  Img r = full(a.x - 1, a.y - 1, a.w + 2, a.h + 2, majority ? f.majority() : 1);
  for (int i = 0; i < a.h; i++)
    for (int j = 0; j < a.w; j++) r(i + 1, j + 1) = a(i, j);
  return r;
}

// The cells that join two non-zero cells of one colour along a line: the empty cells where the
// rays from the line's two directions (`from`, `back`) bring one colour; 0 elsewhere.
static void join_rays(const uint8_t* __restrict from, const uint8_t* __restrict back, uint8_t* __restrict out,
                      size_t n) {
  for (size_t k = 0; k < n; k++) out[k] = from[k] & uint8_t(-(from[k] == back[k]));
}

// Join each non-zero cell to the next non-zero cell along a line where both have one colour (the
// joins alone): 0 rows, 1 columns, 2 both (the columns' joins over the rows'), 3 diagonals
// down-right, 4 diagonals down-left. From the rays the image's facts share.
Img connect(Facts& f, int id) {
  static const int rays[5][2] = {{0, 1}, {2, 3}, {0, 1}, {4, 5}, {7, 6}};  // indices into RAY_STEP
  const Img& a = f.img();
  Img r(a.x, a.y, a.w, a.h);
  size_t n = r.m.size();
  join_rays(f.ray(rays[id][0]), f.ray(rays[id][1]), r.m.data(), n);
  if (id == 2) {
    uint8_t columns[MAXCELLS];
    join_rays(f.ray(2), f.ray(3), columns, n);
    uint8_t* __restrict out = r.m.data();
    for (size_t k = 0; k < n; k++) out[k] = uint8_t(columns[k] | (out[k] & uint8_t(-(columns[k] == 0))));
  }
  return r;
}

Img spread_colours(Facts& f, bool skip_majority) {
  // Breadth first from every coloured cell (but the skipped colour's), each empty cell taking
  // the colour that reaches it first; the ring is marked done.
  int skip = skip_majority ? f.majority() : -1;
  Img a = f.img();
  Padded p(a);
  uint8_t done[PADDED];
  int queue[PADDED], tail = 0;
  std::fill(done, done + p.cells, uint8_t(1));
  for (int i = 0; i < a.h; i++)
    for (int j = 0; j < a.w; j++) {
      int k = p.at(i, j);
      done[k] = p.v[k] != 0;
      if (done[k] && p.v[k] != skip) queue[tail++] = k;
    }
  // Down, up, right, left: the order decides which colour reaches a cell first.
  const int steps[4] = {p.step[2], p.step[3], p.step[0], p.step[1]};
  for (int q = 0; q < tail; q++) {
    int k = queue[q];
    uint8_t colour = p.v[k];
    for (int d = 0; d < 4; d++) {
      int nk = k + steps[d];
      if (done[nk]) continue;
      done[nk] = 1;
      p.v[nk] = colour;
      queue[tail++] = nk;
    }
  }
  for (int i = 0; i < a.h; i++) std::copy_n(p.v + p.at(i, 0), a.w, a.m.data() + size_t(i * a.w));
  return a;
}

Img half(const Img& a, int id) {
  switch (id) {
    case 0: return sub_image(a, 0, 0, a.w / 2, a.h);
    case 1: return sub_image(a, a.w - a.w / 2, 0, a.w / 2, a.h);
    case 2: return sub_image(a, 0, 0, a.w, a.h / 2);
    default: return sub_image(a, 0, a.h - a.h / 2, a.w, a.h / 2);
  }
}

Img gravity_cells(const Img& a, int dir) {
  // Each line's filled cells in order, packed against its far end (down, right) or its start.
  Img r = full(a.x, a.y, a.w, a.h, 0);
  const uint8_t* __restrict src = a.m.data();
  uint8_t* __restrict out = r.m.data();
  bool columns = dir < 2, far = dir == 0 || dir == 2;
  int lines = columns ? a.w : a.h, len = columns ? a.h : a.w;
  int along = columns ? a.w : 1, across = columns ? 1 : a.w;  // index steps along a line, between lines
  uint8_t line[MAXSIDE];
  for (int l = 0; l < lines; l++) {
    int n = 0;
    for (int t = 0; t < len; t++) {
      uint8_t v = src[l * across + t * along];
      line[n] = v;
      n += v != 0;
    }
    int start = far ? len - n : 0;
    for (int t = 0; t < n; t++) out[l * across + (start + t) * along] = line[t];
  }
  return r;
}

// The factor a template argument: the inner loop then unrolls, and rows repeat by copying.
template <int K>
static Img scale_up_by(const Img& a) {
  if (a.w * K > MAXSIDE || a.h * K > MAXSIDE) return bad();
  Img r(a.x, a.y, a.w * K, a.h * K);
  const uint8_t* __restrict src = a.m.data();
  uint8_t* __restrict out = r.m.data();
  int w = a.w, rw = r.w;
  for (int i = 0; i < a.h; i++) {
    uint8_t* to = out + i * K * rw;
    for (int j = 0; j < w; j++)
      for (int t = 0; t < K; t++) to[j * K + t] = src[i * w + j];
    for (int t = 1; t < K; t++) std::memcpy(to + t * rw, to, size_t(rw));
  }
  return r;
}

Img scale_up(const Img& a, int k) {
  switch (k) {
    case 1: return a;
    case 2: return scale_up_by<2>(a);
    case 3: return scale_up_by<3>(a);
    case 4: return scale_up_by<4>(a);
  }
  if (a.w * k > MAXSIDE || a.h * k > MAXSIDE) return bad();
  Img r(a.x, a.y, a.w * k, a.h * k);
  for (int i = 0; i < r.h; i++)
    for (int j = 0; j < r.w; j++) r(i, j) = a(i / k, j / k);
  return r;
}

Img scale_down(const Img& a, int k) {
  if (a.w % k || a.h % k) return bad();
  Img r(a.x, a.y, a.w / k, a.h / k);
  const uint8_t* src = a.m.data();
  for (int i = 0; i < a.h; i++) {
    // not blocks of one colour: a cell unlike its block's top left cell
    const uint8_t *row = src + i * a.w, *top = src + i / k * k * a.w;
    int unlike = 0;
    for (int j0 = 0; j0 < a.w; j0 += k)
      for (int t = 0; t < k; t++) unlike |= row[j0 + t] != top[j0];
    if (unlike) return bad();
  }
  for (int i = 0; i < r.h; i++)
    for (int j = 0; j < r.w; j++) r(i, j) = a(i * k, j * k);
  return r;
}

Img symmetrize(const Img& a, int id) {
  // Fill empty cells from their mirror images (a cell set in both keeps its own colour; where
  // several mirrors are read, the first with a colour gives it). A mirror that reorders cells
  // within rows is written out first, then filled from in one pass.
  Img r = a;
  const uint8_t* src = a.m.data();
  uint8_t* out = r.m.data();
  int w = a.w, h = a.h, n = w * h;
  uint8_t mirrored[MAXCELLS];
  if (id == 0 || id == 2) {
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++) mirrored[i * w + j] = src[i * w + w - 1 - j];
    fill_empty(out, mirrored, size_t(n));
  }
  if (id == 1 || id == 2)
    for (int i = 0; i < h; i++) fill_empty(out + i * w, src + (h - 1 - i) * w, size_t(w));
  if (id == 2) {
    for (int k = 0; k < n; k++) mirrored[k] = src[n - 1 - k];
    fill_empty(out, mirrored, size_t(n));
  }
  if (id == 3 && w == h) {
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++) mirrored[i * w + j] = src[j * w + i];
    fill_empty(out, mirrored, size_t(n));
  }
  return r;
}

// One row of outline_objects, read as border_row reads.
static void outline_row(const uint8_t* __restrict up, const uint8_t* __restrict mid, const uint8_t* __restrict down,
                        uint8_t* __restrict out, int w) {
  for (int j = 0; j < w; j++) {
    uint8_t inner = uint8_t((up[j + 1] != 0) & (mid[j] != 0) & (mid[j + 2] != 0) & (down[j + 1] != 0));
    out[j] = mid[j + 1] & uint8_t(inner - 1);
  }
}

Img outline_objects(const Img& a) {
  // A filled cell whose 4 neighbours are all filled is inner (the ring around the image is empty).
  Padded p(a);
  Img r(a.x, a.y, a.w, a.h);
  for (int i = 0; i < a.h; i++)
    outline_row(p.v + i * p.W, p.v + (i + 1) * p.W, p.v + (i + 2) * p.W, r.m.data() + i * a.w, a.w);
  return r;
}

Img fractal(const Img& a, bool by_mask) {
  // Each cell of `a` becomes a copy of `a` where it is set (by_mask: a copy of its mask in its colour).
  if (a.w * a.w > MAXSIDE || a.h * a.h > MAXSIDE) return bad();
  Img r(a.x, a.y, a.w * a.w, a.h * a.h);
  for (int i = 0; i < r.h; i++)
    for (int j = 0; j < r.w; j++) {
      int outer = a(i / a.h, j / a.w), inner = a(i % a.h, j % a.w);
      r(i, j) = uint8_t(by_mask ? (inner ? outer : 0) : (outer ? inner : 0));
    }
  return r;
}

Img scale_by_colours(Facts& f) { return scale_up(f.img(), std::max(1, colours(f))); }

// The value class of each cell of a w x h image under a period: rows and columns (kind 0)
// `(i % py) * px + j % px`, or anti-diagonals (kind 1) `(i + j) % py` or diagonals (kind 2)
// `(i - j) mod py`; read from tables made once a period by counting, with no division.
struct Classes {
  int kind, w;
  int by_row[2 * MAXSIDE], by_column[MAXSIDE];  // kind 0: i, j; else by_row by i + j or i - j + w - 1
  Classes(int kind_, int py, int px, int w_, int h) : kind(kind_), w(w_) {
    // out[t] = (first + t) mod p for t < n, first in 0..p-1
    auto count = [](int* out, int n, int first, int p, int scale) {
      for (int t = 0, r = first; t < n; t++, r = r + 1 == p ? 0 : r + 1) out[t] = r * scale;
    };
    if (kind == 0) {
      count(by_row, h, 0, py, px);
      count(by_column, w, 0, px, 1);
    } else {
      count(by_row, h + w - 1, kind == 1 ? 0 : ((1 - w) % py + py) % py, py, 1);
    }
  }
  int operator()(int i, int j) const {
    return kind == 0 ? by_row[i] + by_column[j] : by_row[kind == 1 ? i + j : i - j + w - 1];
  }
};

// The rows of an image, 64 cells apart, each cell past the image's width `unknown` (255 where
// every cell is known): two rows, or a row and itself shifted, compare as 32 cells at a fixed
// width, which the compiler unrolls into vector instructions.
struct Rows {
  int w, h;
  uint8_t u;
  alignas(16) uint8_t v[MAXSIDE][64];
  Rows(const Img& a, int unknown) : w(a.w), h(a.h), u(uint8_t(unknown < 0 ? 255 : unknown)) {
    std::memset(v, u, size_t(h) * 64);  // one call for every row's padding
    for (int i = 0; i < h; i++) std::memcpy(v[i], a.m.data() + i * w, size_t(w));
  }
  // Whether the 32 cells from x and from y differ somewhere both are known.
  bool clash(const uint8_t* x, const uint8_t* y) const {
    // A byte's flags ORed into a byte: an int would widen every cell to 32 bits.
    uint8_t bad = 0;
    for (int l = 0; l < 32; l++) bad |= uint8_t((x[l] != y[l]) & (x[l] != u) & (y[l] != u));
    return bad != 0;
  }
  // Whether every row i equals row i + p wherever both are known (p >= h: always); by columns
  // where `columns`.
  bool shift_fits(int p, bool columns) const {
    if (!columns) {
      for (int k = p; k < h; k++)
        if (clash(v[k], v[k - p])) return false;
      return true;
    }
    for (int l = 0; l < h && p < w; l++)
      if (clash(v[l] + p, v[l])) return false;
    return true;
  }
  // Whether each cell equals its neighbour down and `dj` across wherever both are known: every
  // anti-diagonal (dj = -1) or diagonal (dj = 1) is of one colour. (Row i + 1 shifted back one
  // starts at row i's last padding cell.)
  bool along_diagonals(int dj) const {
    for (int i = 0; i + 1 < h; i++)
      if (clash(v[i], v[i + 1] + dj)) return false;
    return true;
  }
};

// What Rows tells, from the `known` cells (row-major, as (ki, kj, kv)) of a sparse image: for
// each shift p, whether the rows (`rows[p]`) and the columns (`cols[p]`) repeat every p wherever
// both cells are known, and whether each anti-diagonal (`along[1]`) and diagonal (`along[2]`) is
// of one colour. Every pair of known cells in a column rules its distance out for the rows, and
// likewise in a row for the columns.
static void clashes(const Img& a, int unknown, const uint8_t* ki, const uint8_t* kj, const uint8_t* kv, int known,
                    bool* rows, bool* cols, bool* along) {
  std::fill(rows, rows + 2 * MAXSIDE + 1, true);
  std::fill(cols, cols + 2 * MAXSIDE + 1, true);
  // The known cells by column (counting sort, rows ascending in each).
  int start[MAXSIDE + 1] = {}, by_column[MAXCELLS];
  for (int n = 0; n < known; n++) start[kj[n] + 1]++;
  for (int j = 0; j < a.w; j++) start[j + 1] += start[j];
  int fill[MAXSIDE];
  std::copy_n(start, a.w, fill);
  for (int n = 0; n < known; n++) by_column[fill[kj[n]]++] = n;
  for (int j = 0; j < a.w; j++)
    for (int s = start[j]; s < start[j + 1]; s++)
      for (int t = s + 1; t < start[j + 1]; t++)
        if (kv[by_column[s]] != kv[by_column[t]]) rows[ki[by_column[t]] - ki[by_column[s]]] = false;
  for (int s = 0; s < known; s++)  // row-major: a row's cells are consecutive
    for (int t = s + 1; t < known && ki[t] == ki[s]; t++)
      if (kv[s] != kv[t]) cols[kj[t] - kj[s]] = false;
  for (int n = 0; n < known; n++) {
    int i = ki[n] + 1, j = kj[n];
    if (i >= a.h) continue;
    for (int k = 1; k < 3; k++) {
      int nj = j + (k == 1 ? -1 : 1);
      if (nj < 0 || nj >= a.w) continue;
      int v = a(i, nj);
      if (v != unknown && v != kv[n]) along[k] = false;
    }
  }
}

// The smallest period under which every class holds one non-zero colour, ignoring `unknown`
// cells; the class colours, or an empty vector where none is shorter than the image. Periods in
// order of area (py * px, or the diagonal period), then rows-and-columns before anti-diagonals
// before diagonals, then py.
static Period find_period(const Img& a, int unknown, int max_area) {
  Period found{unknown, max_area};
  int& kind = found.kind;
  int& py = found.py;
  int& px = found.px;
  // The known cells once, as (row, column, colour): sparse images test few.
  uint8_t ki[MAXCELLS], kj[MAXCELLS], kv[MAXCELLS];
  int known = 0;
  for (int i = 0; i < a.h; i++)
    for (int j = 0; j < a.w; j++) {
      // Written at every cell, kept where known: no branch to mispredict.
      uint8_t v = a(i, j);
      ki[known] = uint8_t(i), kj[known] = uint8_t(j), kv[known] = v;
      known += v != unknown;
    }
  int cls[MAXCELLS];
  auto fits = [&]() {
    if (kind == 0 && known == a.w * a.h) {
      // Every cell known: rows that repeat every py and columns every px (the filter below)
      // make each cell equal to its class's cell in the top left py x px block.
      for (int i = 0; i < py; i++)
        for (int j = 0; j < px; j++) cls[i * px + j] = a(i, j);
      return true;
    }
    std::fill(cls, cls + (kind == 0 ? py * px : py), -1);
    Classes class_of(kind, py, px, a.w, a.h);
    for (int n = 0; n < known; n++) {
      int& c = cls[class_of(ki[n], kj[n])];
      if (c < 0) c = kv[n];
      else if (c != kv[n]) return false;
    }
    return true;
  };
  // A period that fits implies that the rows repeat every py and the columns every px (cells
  // one shift apart share a class; on diagonals, py = px = the period): a cheap filter that
  // leaves the first fit unchanged. Shifts of the whole side or more always repeat. Sparse
  // images have every shift told at once, from the pairs of known cells in a line; dense ones
  // have a shift tested when a candidate first needs it (-1: not yet), as the first fit is
  // usually among the smallest.
  max_area = std::min(max_area, MAXCELLS);
  int8_t rows[MAXSIDE * 2 + 1], cols[MAXSIDE * 2 + 1];
  bool along[3] = {false, true, true};
  std::optional<Rows> lines;
  if (known * 4 <= a.w * a.h) {
    bool row_fits[MAXSIDE * 2 + 1], col_fits[MAXSIDE * 2 + 1];
    clashes(a, unknown, ki, kj, kv, known, row_fits, col_fits, along);
    std::copy_n(row_fits, MAXSIDE * 2 + 1, rows);
    std::copy_n(col_fits, MAXSIDE * 2 + 1, cols);
  } else {
    lines.emplace(a, unknown);
    std::fill_n(rows, MAXSIDE * 2 + 1, int8_t(-1));
    std::fill_n(cols, MAXSIDE * 2 + 1, int8_t(-1));
    along[1] = lines->along_diagonals(-1), along[2] = lines->along_diagonals(1);
  }
  auto row = [&](int p) {
    if (p >= a.h) return true;
    if (rows[p] < 0) rows[p] = lines->shift_fits(p, false);
    return rows[p] > 0;
  };
  auto col = [&](int p) {
    if (p >= a.w) return true;
    if (cols[p] < 0) cols[p] = lines->shift_fits(p, true);
    return cols[p] > 0;
  };
  // The candidates in order of area: the periods of rows and columns, py * px (ties: the smaller
  // py), before the diagonal periods p of the same area (anti-diagonals first). The row periods
  // (ys, each with the index of its next px) and the column periods (xs) are found in ascending
  // order as far as a candidate smaller than the best so far could come from them.
  int ys[MAXSIDE], next_px[MAXSIDE], n_ys = 0, last_y = 0;  // rows tested up to last_y
  int xs[MAXSIDE], n_xs = 0, last_x = 0;
  auto more_ys = [&]() {
    while (last_y < a.h)
      if (row(++last_y)) {
        ys[n_ys] = last_y, next_px[n_ys++] = 0;
        return true;
      }
    return false;
  };
  auto more_xs = [&]() {
    while (last_x < a.w)
      if (col(++last_x)) {
        xs[n_xs++] = last_x;
        return true;
      }
    return false;
  };
  more_xs();  // the side itself always repeats: there is one
  // The diagonal candidate looked at: period dp, kind dk (3: on to dp + 1).
  int dp = 0, dk = 3, diagonal_limit = along[1] || along[2] ? std::min(max_area, a.w + a.h) : 0;
  auto diagonal_below = [&](int below) {  // the next diagonal candidate with p < below, as kind << 8 | p; else 0
    while (true) {
      if (dk < 3 && along[dk]) return dk << 8 | dp;
      if (dk < 3) {
        dk++;
        continue;
      }
      if (dp >= diagonal_limit || dp + 1 >= below) return 0;
      dp++;
      dk = row(dp) && col(dp) ? 1 : 3;
    }
  };
  while (true) {
    int best = -1, area = max_area + 1;
    for (int t = 0; t < n_ys; t++) {
      if (next_px[t] == n_xs && (ys[t] * (last_x + 1) >= area || !more_xs())) continue;
      int made = ys[t] * xs[next_px[t]];
      if (made < area) area = made, best = t;
    }
    while (last_y < a.h && (last_y + 1) * xs[0] < area && more_ys()) {
      int made = ys[n_ys - 1] * xs[0];
      if (made < area) area = made, best = n_ys - 1;
    }
    int diagonal = diagonal_limit ? diagonal_below(area) : 0;
    if (diagonal) {
      kind = diagonal >> 8, py = diagonal & 255, px = 1, dk++;
    } else if (best >= 0) {
      kind = 0, py = ys[best], px = xs[next_px[best]++];
    } else {
      return found;
    }
    if (fits()) {
      found.cls.assign(cls, cls + (kind ? py : py * px));
      return found;
    }
  }
}

Img periodic_fill(Facts& f, int unknown) {
  const Img& a = f.img();
  // Periods of at most half the cells: a longer one repairs nothing it could check.
  const Period& p = f.period(unknown, a.w * a.h / 2);
  if (p.cls.empty()) return bad();
  Img r = a;
  Classes class_of(p.kind, p.py, p.px, a.w, a.h);
  for (int i = 0; i < a.h; i++)
    for (int j = 0; j < a.w; j++) {
      int c = p.cls[size_t(class_of(i, j))];
      if (r(i, j) == unknown && c >= 0) r(i, j) = uint8_t(c);
    }
  return r;
}

Img periodic_extend(Facts& f, int w, int h) {
  const Period& p = f.period(-1, f.img().w * f.img().h - 1);
  if (p.cls.empty()) return bad();
  Img r(0, 0, w, h);
  Classes class_of(p.kind, p.py, p.px, w, h);
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++) r(i, j) = uint8_t(std::max(0, p.cls[size_t(class_of(i, j))]));
  return r;
}

Img largest_colour_fill(Facts& f) { return colour_shape(f.img(), f.majority()); }

void embed_into(const Img& a, int w, int h, Img& r) {
  // Each row's part of `a` that falls inside w x h, copied whole.
  r.x = r.y = 0, r.w = w, r.h = h;
  r.m.assign(size_t(w * h), 0);
  int j0 = std::max(0, a.x), j1 = std::min(w, a.x + a.w);
  if (j0 >= j1) return;
  for (int i = std::max(0, a.y); i < std::min(h, a.y + a.h); i++)
    std::memcpy(r.m.data() + i * w + j0, a.m.data() + (i - a.y) * a.w + (j0 - a.x), size_t(j1 - j0));
}

Img embed(const Img& a, int w, int h) {
  Img r;
  embed_into(a, w, h, r);
  return r;
}

Img wrap(const Img& a, int w, int h) {
  // Cell (i, j) goes to x = j + (i / h) * a.w, y = i % h, then wraps: y += (x / w) * a.h, x %= w
  // (the quotient and remainder of x counted along the row, not divided).
  Img r(0, 0, w, h);
  uint8_t* __restrict out = r.m.data();
  const uint8_t* __restrict src = a.m.data();
  for (int i = 0; i < a.h; i++) {
    int x0 = i / h * a.w, y0 = i % h, q = x0 / w, x = x0 % w;
    for (int j = 0; j < a.w; j++) {
      int y = y0 + q * a.h;
      if (y < h) out[y * w + x] = src[i * a.w + j];
      if (++x == w) x = 0, q++;
    }
  }
  return r;
}

Img broadcast(const Img& a, int w, int h) {
  // Each cell of `a` becomes a block, where the sizes divide; else nearest-cell sampling.
  Img r(0, 0, w, h);
  int from_column[MAXSIDE];
  for (int j = 0; j < w; j++) from_column[j] = j * a.w / w;
  uint8_t* __restrict out = r.m.data();
  for (int i = 0; i < h; i++) {
    const uint8_t* __restrict row = a.m.data() + i * a.h / h * a.w;
    for (int j = 0; j < w; j++) out[i * w + j] = row[from_column[j]];
  }
  return r;
}

// Which cell of a tile of n cells (tiles N apart) each of the `count` cells of a line of a tiling
// shows; -1 in a gap. `mirrored`: every other tile reversed. (The place in the tile pair counted
// along the line, not divided.)
static void tile_sources(int count, int n, int N, bool mirrored, int* out) {
  int period = mirrored ? 2 * N : N;
  for (int k = 0, t = 0; k < count; k++, t = t + 1 == period ? 0 : t + 1)
    out[k] = t < n ? t : (mirrored && t >= N && t < N + n) ? N + n - 1 - t : -1;
}

static Img tiled(const Img& a, int w, int h, int pad, bool mirrored) {
  if (w > MAXSIDE || h > MAXSIDE) return bad();
  Img r(0, 0, w, h);
  int xs[MAXSIDE], ys[MAXSIDE];
  tile_sources(w, a.w, a.w + pad, mirrored, xs);
  tile_sources(h, a.h, a.h + pad, mirrored, ys);
  for (int i = 0; i < h; i++) {
    int y = ys[i];
    if (y < 0) continue;
    for (int j = 0; j < w; j++)
      if (xs[j] >= 0) r(i, j) = a(y, xs[j]);
  }
  return r;
}

Img repeat(const Img& a, int w, int h, int pad) { return tiled(a, w, h, pad, false); }

Img mirror(const Img& a, int w, int h, int pad) { return tiled(a, w, h, pad, true); }

// --- compose --------------------------------------------------------------------------------

// id 0: b over a in the union of both; 1: b over a where both are; 2: a where b is set (where
// both are); 3: b over a within a; 4: a where b is empty (within a).
Img compose(const Img& a, const Img& b, int id) {
  int x0, y0, x1, y1;
  if (id == 0) {
    x0 = std::min(a.x, b.x), y0 = std::min(a.y, b.y);
    x1 = std::max(a.x + a.w, b.x + b.w), y1 = std::max(a.y + a.h, b.y + b.h);
  } else if (id == 1 || id == 2) {
    x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
    x1 = std::min(a.x + a.w, b.x + b.w), y1 = std::min(a.y + a.h, b.y + b.h);
  } else {
    x0 = a.x, y0 = a.y, x1 = a.x + a.w, y1 = a.y + a.h;
  }
  if (x1 <= x0 || y1 <= y0 || x1 - x0 > MAXSIDE || y1 - y0 > MAXSIDE) return bad();
  Img r(x0, y0, x1 - x0, y1 - y0);
  for (int i = 0; i < r.h; i++)
    for (int j = 0; j < r.w; j++) {
      int va = a.safe(y0 + i - a.y, x0 + j - a.x), vb = b.safe(y0 + i - b.y, x0 + j - b.x);
      int v = (id == 2) ? (vb ? va : 0) : (id == 4) ? (vb ? 0 : va) : (vb ? vb : va);
      r(i, j) = uint8_t(v);
    }
  return r;
}

// --- image -> list --------------------------------------------------------------------------

// The components of the cells where `keep` is set (one flag per cell of `a`), joined 4- or
// 8-connectedly, of one colour or any: each cell's component (-1 where not kept), numbered in
// the order of their first cells, row by row, with each one's box and size. One flood over the
// padded image (no bounds checks) that keeps each cell's row and column beside it on its stack.
struct Labels {
  struct Box {
    int x0, y0, x1, y1, cells;
  };
  int n = 0;
  int of[MAXCELLS];
  Box box[MAXCELLS];
  Labels(const Img& a, const uint8_t* keep, bool diagonal, bool same_colour) {
    Padded p(a);
    uint8_t open[PADDED] = {};  // kept and not yet reached; the ring never is
    for (int i = 0; i < a.h; i++)
      for (int j = 0; j < a.w; j++) open[p.at(i, j)] = keep[i * a.w + j];
    std::fill(of, of + a.w * a.h, -1);
    int stack[MAXCELLS][3], directions = diagonal ? 8 : 4;
    static const int di[8] = {0, 0, 1, -1, 1, 1, -1, -1}, dj[8] = {1, -1, 0, 0, 1, -1, 1, -1};
    for (int i0 = 0; i0 < a.h; i0++)
      for (int j0 = 0; j0 < a.w; j0++) {
        int s = p.at(i0, j0);
        if (!open[s]) continue;
        open[s] = 0;
        Box& b = box[n];
        b = {j0, i0, j0, i0, 0};
        int top = 0;
        stack[top][0] = s, stack[top][1] = i0, stack[top++][2] = j0;
        while (top) {
          top--;
          int k = stack[top][0], i = stack[top][1], j = stack[top][2];
          of[i * a.w + j] = n;
          b.cells++;
          b.x0 = std::min(b.x0, j), b.x1 = std::max(b.x1, j), b.y0 = std::min(b.y0, i), b.y1 = std::max(b.y1, i);
          for (int d = 0; d < directions; d++) {
            int nk = k + p.step[d];
            if (!open[nk] || (same_colour && p.v[nk] != p.v[s])) continue;
            open[nk] = 0;
            stack[top][0] = nk, stack[top][1] = i + di[d], stack[top++][2] = j + dj[d];
          }
        }
        n++;
      }
  }
};

// Each component of `labels` cut out of `a` to its box (keeping its position), the cells of
// other components empty.
static Imgs pieces(const Img& a, const Labels& labels) {
  Imgs out;
  out.reserve(size_t(labels.n));
  for (int c = 0; c < labels.n; c++) {
    const Labels::Box& b = labels.box[c];
    out.emplace_back(a.x + b.x0, a.y + b.y0, b.x1 - b.x0 + 1, b.y1 - b.y0 + 1);
  }
  for (int i = 0; i < a.h; i++)
    for (int j = 0; j < a.w; j++) {
      int c = labels.of[i * a.w + j];
      if (c >= 0) out[size_t(c)](i - labels.box[c].y0, j - labels.box[c].x0) = a(i, j);
    }
  return out;
}

// The cells of `a` that are not colour `col` (col = 0: the non-empty cells), as flags.
static void other_than(const Img& a, int col, uint8_t* keep) {
  for (size_t k = 0; k < a.m.size(); k++) keep[k] = a.m[k] != col;
}

static int separator_colour(const Img& a) {
  // The colour whose edge-touching cells cut the rest into >= 2 pieces, none enclosed, with the
  // smallest piece as large as possible (icecuber's heuristicCut); -1 where none does.
  int best = -1, best_score = -1;
  int mask = colour_mask(a);
  uint8_t keep[MAXCELLS];
  for (int col = 0; col < 10; col++) {
    if (!(mask >> col & 1)) continue;
    bool top = false, bottom = false, left = false, right = false;
    for (int i = 0; i < a.h; i++)
      for (int j = 0; j < a.w; j++)
        if (a(i, j) == col) {
          top |= i == 0, bottom |= i == a.h - 1, left |= j == 0, right |= j == a.w - 1;
        }
    if (!((top && bottom) || (left && right))) continue;
    other_than(a, col, keep);
    Labels parts(a, keep, true, false);
    if (parts.n < 2) continue;
    int smallest = 1 << 30;
    for (int c = 0; c < parts.n; c++) smallest = std::min(smallest, parts.box[c].cells);
    if (smallest > best_score) best_score = smallest, best = col;
  }
  return best;
}

Imgs cut(const Img& a) {
  int col = separator_colour(a);
  if (col < 0) return {};
  // Components of the non-separator cells, each keeping all its colours (0 included).
  uint8_t keep[MAXCELLS];
  other_than(a, col, keep);
  return pieces(a, Labels(a, keep, true, false));
}

Imgs split_colours(const Img& a) {
  Imgs out;
  int mask = colour_mask(a);
  for (int c = 1; c < 10; c++)
    if (mask >> c & 1) out.push_back(filter_colour(a, c));
  return out;
}

Imgs split_all(const Img& a) {
  uint8_t keep[MAXCELLS];
  other_than(a, 0, keep);
  return pieces(a, Labels(a, keep, false, true));
}

Imgs split_objects(const Img& a) {
  uint8_t keep[MAXCELLS];
  other_than(a, 0, keep);
  return pieces(a, Labels(a, keep, true, false));
}

Imgs split_columns(const Img& a) {
  Imgs out;
  for (int j = 0; j < a.w; j++) out.push_back(sub_image(a, j, 0, 1, a.h));
  return out;
}

Imgs split_rows(const Img& a) {
  Imgs out;
  for (int i = 0; i < a.h; i++) out.push_back(sub_image(a, 0, i, a.w, 1));
  return out;
}

Imgs inside_marked(const Img& a) {
  // Rectangles whose four corners are marked by L-shaped 2x2 corner pieces of one colour: corner
  // k (0 top left, 1 top right, 2 bottom left, 3 bottom right) is a 2x2 block at (y, x) whose
  // cells but the inner one (3 - k) hold the colour. Each block's colour as each corner (0:
  // none) first; then the rectangles from their top left corners, in the order of (i, j, h, w).
  uint8_t corner[4][MAXCELLS];
  for (int y = 0; y + 1 < a.h; y++)
    for (int x = 0; x + 1 < a.w; x++) {
      uint8_t cell[4] = {a(y, x), a(y, x + 1), a(y + 1, x), a(y + 1, x + 1)};
      for (int k = 0; k < 4; k++) {
        int inner = 3 - k, c = cell[k == 3 ? 1 : 0];  // one of the three outer cells
        bool ok = c != 0 && cell[inner] != c;
        for (int d = 0; d < 4; d++) ok &= d == inner || cell[d] == c;
        corner[k][y * a.w + x] = ok ? uint8_t(c) : 0;
      }
    }
  Imgs out;
  for (int i = 0; i + 1 < a.h; i++)
    for (int j = 0; j + 1 < a.w; j++) {
      int col = corner[0][i * a.w + j];
      if (!col) continue;
      for (int h = 1; i + h + 1 < a.h; h++) {
        if (corner[2][(i + h) * a.w + j] != col) continue;
        for (int w = 1; j + w + 1 < a.w; w++)
          if (corner[1][i * a.w + j + w] == col && corner[3][(i + h) * a.w + j + w] == col)
            out.push_back(sub_image(a, j + 1, i + 1, w, h));
      }
    }
  return out;
}

Imgs gravity_objects(const Img& a, int dir) {
  Imgs pieces = split_all(a);
  int dx = (dir == 2) - (dir == 3), dy = (dir == 0) - (dir == 1);
  std::stable_sort(pieces.begin(), pieces.end(),
                   [&](const Img& p, const Img& q) { return (p.x - q.x) * dx + (p.y - q.y) * dy > 0; });
  Img room = full(a.x, a.y, a.w, a.h, 0);
  Imgs out;
  for (Img p : pieces) {
    // It falls as far as the shortest free run ahead of any of its cells.
    int fall = MAXSIDE;
    for (int i = 0; i < p.h; i++)
      for (int j = 0; j < p.w; j++) {
        if (!p(i, j)) continue;
        int x = j + p.x - room.x, y = i + p.y - room.y, run = 0;
        for (; run < fall; run++) {
          x += dx, y += dy;
          if (x < 0 || y < 0 || x >= room.w || y >= room.h || room(y, x)) break;
        }
        fall = run;
      }
    p.x += fall * dx, p.y += fall * dy;
    for (int i = 0; i < p.h; i++)
      for (int j = 0; j < p.w; j++)
        if (p(i, j)) room(p.y + i - room.y, p.x + j - room.x) = p(i, j);
    out.push_back(p);
  }
  return out;
}

Imgs split_grid(const Img& a) {
  // Full rows and columns of one colour are separators; the cells between them are the parts.
  std::vector<int> sep_rows, sep_cols;
  int col = -1;
  for (int i = 0; i < a.h; i++) {
    bool line = true;
    for (int j = 1; j < a.w; j++) line &= a(i, j) == a(i, 0);
    if (line && a.w > 1 && (col < 0 || a(i, 0) == col) && a(i, 0)) col = a(i, 0), sep_rows.push_back(i);
  }
  for (int j = 0; j < a.w; j++) {
    bool line = true;
    for (int i = 1; i < a.h; i++) line &= a(i, j) == a(0, j);
    if (line && a.h > 1 && (col < 0 || a(0, j) == col) && a(0, j)) col = a(0, j), sep_cols.push_back(j);
  }
  if (sep_rows.empty() && sep_cols.empty()) return {};
  auto spans = [](const std::vector<int>& seps, int n) {
    std::vector<std::pair<int, int>> out;
    int start = 0;
    for (int s : seps) {
      if (s > start) out.push_back({start, s - start});
      start = s + 1;
    }
    if (n > start) out.push_back({start, n - start});
    return out;
  };
  Imgs out;
  for (auto [y, h] : spans(sep_rows, a.h))
    for (auto [x, w] : spans(sep_cols, a.w)) out.push_back(sub_image(a, x, y, w, h));
  if (out.size() < 2) return {};
  return out;
}

// --- list -> image --------------------------------------------------------------------------

static int symmetries(const Img& a) {
  // How many of the 7 other rigid maps leave the cells as they are (rotations and diagonals:
  // square images only).
  int n = 0;
  for (int id = 1; id < 8; id++) {
    if (swaps_sides(id) && a.w != a.h) continue;
    Placement p = placement(id, a.w, a.h, a.w);
    bool same = true;
    for (int i = 0; i < a.h && same; i++)
      for (int j = 0; j < a.w; j++)
        if (a.m[size_t(p.base + i * p.di + j * p.dj)] != a(i, j)) {
          same = false;
          break;
        }
    n += same;
  }
  return n;
}

static int criterion(const Img& a, int id) {
  switch (id) {
    case 14: return symmetries(a);
    case 15: return -symmetries(a);
    case 0: return count_nonzero(a);
    case 1: return -count_nonzero(a);
    case 2: return a.w * a.h;
    case 3: return -a.w * a.h;
    case 4: return count_colours(a);
    case 5: return -a.y;
    case 6: return a.y;
    case 7: return count_components(a);
    case 8: {
      Img c = compress(a);
      return c.bad() ? 0 : c.w * c.h - count_nonzero(c);
    }
    case 9: {
      Img c = compress(a);
      return c.bad() ? 0 : -(c.w * c.h - count_nonzero(c));
    }
    case 10: return count_nonzero(interior(a));
    case 11: return -count_nonzero(interior(a));
    case 12: return -a.x;
    default: return a.x;
  }
}

Img pick_max(const Imgs& v, int id) {
  if (v.empty()) return bad();
  int best = 0, score = criterion(v[0], id);
  for (int i = 1; i < int(v.size()); i++) {
    int s = criterion(v[size_t(i)], id);
    if (s > score) score = s, best = i;
  }
  return v[size_t(best)];
}

Img pick_unique(const Imgs& v) {
  // The one image whose colour set is unique among the list's (icecuber's pickUnique 0).
  int found = -1;
  for (int i = 0; i < int(v.size()); i++) {
    int mask = colour_mask(v[size_t(i)]) & ~1, same = 0;
    for (int k = 0; k < int(v.size()); k++) same += (colour_mask(v[size_t(k)]) & ~1) == mask;
    if (same == 1) {
      if (found >= 0) return bad();
      found = i;
    }
  }
  return found < 0 ? bad() : v[size_t(found)];
}

Img compose_growing(const Imgs& v) {
  if (v.empty()) return bad();
  int x0 = 1 << 20, y0 = 1 << 20, x1 = -(1 << 20), y1 = -(1 << 20);
  for (auto& a : v) x0 = std::min(x0, a.x), y0 = std::min(y0, a.y), x1 = std::max(x1, a.x + a.w), y1 = std::max(y1, a.y + a.h);
  if (x1 - x0 > MAXSIDE || y1 - y0 > MAXSIDE) return bad();
  std::vector<std::pair<int, int>> order;
  for (int i = 0; i < int(v.size()); i++) order.push_back({count_nonzero(v[size_t(i)]), i});
  std::stable_sort(order.begin(), order.end(), [](auto& p, auto& q) { return p.first > q.first; });
  Img r(x0, y0, x1 - x0, y1 - y0);
  for (auto [n, i] : order) {
    const Img& a = v[size_t(i)];
    for (int y = 0; y < a.h; y++)
      for (int x = 0; x < a.w; x++)
        if (a(y, x)) r(a.y + y - y0, a.x + x - x0) = a(y, x);
  }
  return r;
}

static Img stack_two(const Img& a, Img b, int orient) {
  b.x = a.x, b.y = a.y;
  if (orient == 0) b.x += a.w;
  else if (orient == 1) b.y += a.h;
  else b.x += a.w, b.y += a.h;
  return compose(a, b, 0);
}

// The images in ascending order of `key` (ties: list order), each stacked after the last.
static Img stack_by(const Imgs& v, const std::function<int(const Img&)>& key, int orient) {
  std::vector<std::pair<int, int>> order;
  for (int i = 0; i < int(v.size()); i++) order.push_back({key(v[size_t(i)]), i});
  std::stable_sort(order.begin(), order.end());
  Img out = v[size_t(order[0].second)];
  for (size_t i = 1; i < order.size(); i++) {
    out = stack_two(out, v[size_t(order[i].second)], orient);
    if (out.bad()) return bad();
  }
  return out;
}

Img stack_line(const Imgs& v) {
  if (v.empty()) return bad();
  if (v.size() == 1) return v[0];
  std::vector<int> xs, ys;
  for (auto& a : v) xs.push_back(a.x), ys.push_back(a.y);
  std::sort(xs.begin(), xs.end());
  std::sort(ys.begin(), ys.end());
  int dx_min = 1 << 20, dy_min = 1 << 20;
  for (size_t i = 1; i < v.size(); i++) dx_min = std::min(dx_min, xs[i] - xs[i - 1]), dy_min = std::min(dy_min, ys[i] - ys[i - 1]);
  int vertical = dx_min < dy_min;
  return stack_by(v, [vertical](const Img& a) { return vertical ? a.y : a.x; }, vertical);
}

Img my_stack(const Imgs& v, int orient) {
  if (v.empty()) return bad();
  return stack_by(v, [](const Img& a) { return a.w * a.h; }, orient);
}

static bool same_sizes(const Imgs& v) {
  for (auto& a : v)
    if (a.w != v[0].w || a.h != v[0].h) return false;
  return !v.empty();
}

Img overlay_all(const Imgs& v) {
  if (!same_sizes(v)) return bad();
  Img r(0, 0, v[0].w, v[0].h);
  for (auto& a : v)
    for (size_t k = 0; k < a.m.size(); k++)
      if (a.m[k]) r.m[k] = a.m[k];
  return r;
}

Img and_all(const Imgs& v) {
  if (!same_sizes(v) || v.size() < 2) return bad();
  Img r = to_origin(v[0]);
  for (auto& a : v)
    for (size_t k = 0; k < a.m.size(); k++)
      if (!a.m[k]) r.m[k] = 0;
  return r;
}

Img xor_all(const Imgs& v) {
  if (!same_sizes(v) || v.size() < 2) return bad();
  Img r(0, 0, v[0].w, v[0].h);
  std::vector<int> n(r.m.size(), 0);
  for (auto& a : v)
    for (size_t k = 0; k < a.m.size(); k++)
      if (a.m[k]) n[k]++, r.m[k] = a.m[k];
  for (size_t k = 0; k < r.m.size(); k++)
    if (n[k] != 1) r.m[k] = 0;
  return r;
}

// --- list -> list ---------------------------------------------------------------------------

Imgs pick_maxes(const Imgs& v, int id, bool invert_choice) {
  if (v.empty()) return {};
  std::vector<int> s;
  int best = -(1 << 30);
  for (auto& a : v) s.push_back(criterion(a, id)), best = std::max(best, s.back());
  Imgs out;
  for (size_t i = 0; i < v.size(); i++)
    if ((s[i] == best) != invert_choice) out.push_back(v[i]);
  return out;
}

// --- facts ------------------------------------------------------------------------------------

void Facts::reset(const Img& a, int image) {
  a_ = &a;
  image_ = image;
  majority_ = components_ = -1;
  known_ = 0;
  periods_.clear();
}

const int* Facts::counts() {
  if (missing(COUNTS)) colour_counts(*a_, counts_);
  return counts_;
}

int Facts::majority() {
  if (majority_ < 0) majority_ = most_frequent(counts());
  return majority_;
}

int Facts::components() {
  if (components_ < 0) components_ = count_components(*a_);
  return components_;
}

bool Facts::missing(unsigned bit) {
  bool was = !(known_ >> bit & 1);
  known_ |= 1u << bit;
  return was;
}

const uint8_t* Facts::ray(int direction) {
  if (missing(RAYS + unsigned(direction))) rays_along(*a_, direction, rays_[direction]);
  return rays_[direction];
}

const uint64_t* Facts::outside(bool diagonal) {
  if (missing(OUTSIDE + diagonal)) arc::outside(*a_, diagonal, outside_[diagonal]);
  return outside_[diagonal];
}

const Img& Facts::filled() {
  if (missing(FILLED)) {
    const Img& a = *a_;
    const uint64_t* reached = outside(false);
    uint8_t colour = uint8_t(majority());
    filled_ = Img(a.x, a.y, a.w, a.h);
    uint8_t* __restrict out = filled_.m.data();
    for (int i = 0; i < a.h; i++)
      for (int j = 0; j < a.w; j++) out[i * a.w + j] = colour & uint8_t((reached[i + 1] >> (j + 1) & 1) - 1);
  }
  return filled_;
}

const Img& Facts::border() {
  if (missing(BORDER)) {
    // The empty cells 8-reachable from the edge and the filled cells next to them (the edge
    // cells among them), as 1: every cell on or next to a reached cell, the ring's included.
    const Img& a = *a_;
    const uint64_t* reached = outside(true);
    auto wide = [](uint64_t x) { return x | x << 1 | x >> 1; };
    border_ = full(a.x, a.y, a.w, a.h, 0);
    uint8_t* __restrict out = border_.m.data();
    for (int i = 0; i < a.h; i++) {
      uint64_t near = wide(reached[i]) | wide(reached[i + 1]) | wide(reached[i + 2]);
      for (int j = 0; j < a.w; j++) out[i * a.w + j] = near >> (j + 1) & 1;
    }
  }
  return border_;
}

const Period& Facts::period(int unknown, int max_area) {
  for (auto& p : periods_)
    if (p.unknown == unknown && p.max_area == max_area) return p;
  periods_.push_back(find_period(*a_, unknown, max_area));
  return periods_.back();
}

// --- the table ------------------------------------------------------------------------------

std::vector<Fn> all_functions(const std::vector<std::vector<std::pair<int, int>>>& sizes) {
  std::vector<Fn> fns;
  // A function of the image alone, and one that reads its facts (generic, so that the function
  // inlines into its one wrapper).
  auto ii = [&](std::string name, auto f) {
    fns.push_back({Fn::I2I, std::move(name), [f](Facts& x) { return f(x.img()); }, {}, {}, {}});
  };
  auto fi = [&](std::string name, auto f) {
    fns.push_back({Fn::I2I, std::move(name), [f](Facts& x) { return f(x); }, {}, {}, {}});
  };
  auto il = [&](std::string name, std::function<Imgs(const Img&)> f) {
    fns.push_back({Fn::I2L, std::move(name), {}, std::move(f), {}, {}});
  };
  auto li = [&](std::string name, std::function<Img(const Imgs&)> f) {
    fns.push_back({Fn::L2I, std::move(name), {}, {}, std::move(f), {}});
  };
  auto ll = [&](std::string name, std::function<Imgs(const Imgs&)> f) {
    fns.push_back({Fn::L2L, std::move(name), {}, {}, {}, std::move(f)});
  };
  auto S = [](int v) { return std::to_string(v); };

  ii("crop", compress);
  for (int i = 1; i < 8; i++) {
    static const char* names[] = {"", "rot270", "rot180", "rot90", "flip_lr", "flip_ud", "transpose", "anti_transpose"};
    ii(names[i], [i](const Img& a) { return rigid(a, i); });
  }
  for (int c = 0; c < 10; c++) ii("keep_colour(" + S(c) + ")", [c](const Img& a) { return filter_colour(a, c); });
  for (int c = 1; c < 10; c++) ii("erase_colour(" + S(c) + ")", [c](const Img& a) { return erase_colour(a, c); });
  for (int c = 1; c < 10; c++) ii("recolour(" + S(c) + ")", [c](const Img& a) { return colour_shape(a, c); });
  fi("recolour_majority", largest_colour_fill);
  ii("drop_empty_rows_cols", compress_rows_cols);
  ii("drop_repeats", compress_repeats);
  fi("position", get_pos);
  fi("size", get_size);
  ii("size0", get_size0);
  fi("hull", hull);
  ii("hull0", hull0);
  ii("to_origin", [](const Img& a) { return to_origin(a); });
  fi("fill_holes", fill_holes);
  fi("interior", [](Facts& f) { return interior(f); });
  fi("interior2", interior2);
  fi("border", border);
  ii("centre", centre);
  fi("majority_colour", majority_image);
  static const char* what[] = {"cells", "colours", "objects"};
  static const char* shape[] = {"square", "row", "column"};
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++)
      fi(std::string("count_") + what[a] + "(" + shape[b] + ")", [a, b](Facts& f) { return count_image(f, a, b); });
  static const char* rays[] = {"right", "left", "down", "up", "lr", "ud", "4way", "diag_dr", "diag_ul", "diag_ur",
                               "diag_dl", "diag_main", "diag_anti", "diag_all", "8way"};
  for (int i = 0; i < 15; i++) fi(std::string("rays(") + rays[i] + ")", [i](Facts& f) { return smear(f, i); });
  ii("outline_around", make_border);
  fi("frame(1)", [](Facts& f) { return make_border2(f, false); });
  fi("frame(majority)", [](Facts& f) { return make_border2(f, true); });
  static const char* axes[] = {"rows", "columns", "both", "diagonal_dr", "diagonal_dl"};
  for (int i = 0; i < 5; i++) fi(std::string("connect(") + axes[i] + ")", [i](Facts& f) { return connect(f, i); });
  fi("spread_colours", [](Facts& f) { return spread_colours(f, false); });
  fi("spread_colours(skip_majority)", [](Facts& f) { return spread_colours(f, true); });
  static const char* halves[] = {"left", "right", "top", "bottom"};
  for (int i = 0; i < 4; i++) ii(std::string("half(") + halves[i] + ")", [i](const Img& a) { return half(a, i); });
  static const char* dirs[] = {"down", "up", "right", "left"};
  for (int i = 0; i < 4; i++) ii(std::string("gravity(") + dirs[i] + ")", [i](const Img& a) { return gravity_cells(a, i); });
  for (int k = 2; k <= 4; k++) ii("scale_up(" + S(k) + ")", [k](const Img& a) { return scale_up(a, k); });
  for (int k = 2; k <= 4; k++) ii("scale_down(" + S(k) + ")", [k](const Img& a) { return scale_down(a, k); });
  static const char* syms[] = {"lr", "ud", "both", "diagonal"};
  for (int i = 0; i < 4; i++) ii(std::string("symmetrize(") + syms[i] + ")", [i](const Img& a) { return symmetrize(a, i); });
  ii("outline", outline_objects);
  ii("fractal", [](const Img& a) { return fractal(a, false); });
  ii("fractal(mask)", [](const Img& a) { return fractal(a, true); });
  fi("scale_by_colours", scale_by_colours);
  fi("periodic_fill(0)", [](Facts& f) { return periodic_fill(f, 0); });
  fi("periodic_fill(majority)", [](Facts& f) { return periodic_fill(f, f.majority()); });

  for (size_t s = 0; s < sizes.size(); s++) {
    auto sz = sizes[s];
    std::string tag = "size" + S(int(s));
    auto add_sized = [&](std::string name, auto f) {
      fns.push_back({Fn::I2I, name + "(" + tag + ")",
                     [f, sz](Facts& x) {
                       if (x.image() >= int(sz.size())) return bad();
                       return f(x, sz[size_t(x.image())].first, sz[size_t(x.image())].second);
                     },
                     {}, {}, {}});
    };
    // Most read the image alone.
    auto add_sized_image = [&](std::string name, auto f) {
      add_sized(std::move(name), [f](Facts& x, int w, int h) { return f(x.img(), w, h); });
    };
    add_sized_image("embed", embed);
    add_sized_image("wrap", wrap);
    add_sized_image("broadcast", broadcast);
    add_sized_image("tile", [](const Img& a, int w, int h) { return repeat(a, w, h, 0); });
    add_sized_image("tile_gap", [](const Img& a, int w, int h) { return repeat(a, w, h, 1); });
    add_sized_image("mirror_tile", [](const Img& a, int w, int h) { return mirror(a, w, h, 0); });
    add_sized_image("mirror_tile_gap", [](const Img& a, int w, int h) { return mirror(a, w, h, 1); });
    add_sized("extend_period", periodic_extend);
  }

  il("cut", cut);
  il("split_colours", split_colours);
  il("split_components", split_all);
  il("split_objects", split_objects);
  il("split_columns", split_columns);
  il("split_rows", split_rows);
  il("split_grid", split_grid);
  il("inside_marked", inside_marked);
  for (int i = 0; i < 4; i++) il(std::string("drop_objects(") + dirs[i] + ")", [i](const Img& a) { return gravity_objects(a, i); });

  static const char* crit[] = {"most_cells", "fewest_cells", "largest_box", "smallest_box", "most_colours",
                               "topmost", "bottommost", "most_parts", "most_holes_box", "fewest_holes_box",
                               "largest_interior", "smallest_interior", "leftmost", "rightmost",
                               "most_symmetric", "least_symmetric"};
  for (int i = 0; i < 16; i++) li(std::string("pick(") + crit[i] + ")", [i](const Imgs& v) { return pick_max(v, i); });
  li("pick_unique", pick_unique);
  li("compose", compose_growing);
  li("stack_line", stack_line);
  li("stack(h)", [](const Imgs& v) { return my_stack(v, 0); });
  li("stack(v)", [](const Imgs& v) { return my_stack(v, 1); });
  li("overlay", overlay_all);
  li("and", and_all);
  li("xor", xor_all);
  for (int i = 0; i < 16; i++) ll(std::string("keep_all(") + crit[i] + ")", [i](const Imgs& v) { return pick_maxes(v, i, false); });
  for (int i = 0; i < 16; i++) ll(std::string("drop_all(") + crit[i] + ")", [i](const Imgs& v) { return pick_maxes(v, i, true); });
  return fns;
}

}  // namespace arc

// Breadth-first search over compositions of the DSL's functions, and greedy stacking of pieces.
//
// A state holds one value per image the task gives (every demonstration input, then every test
// input): an image, or a list of images. A program is a path of functions from the inputs; it is
// applied to all images at once and its state hashed on the demonstration images, so two programs
// that agree on every demonstration are one (the cheaper, found first, stands for both). Each new
// image-valued state is checked against the demonstration outputs: equal cells (a solution), equal
// after one fitted colour map (a solution a step longer), or a "piece" that is right wherever it
// defines a cell. When no program solves the task, pieces are stacked greedily (icecuber's
// greedyCompose idea): the piece defining the most still-undefined cells first, until every cell
// of every demonstration output is defined.
//
// Speed: the functions applied to one state share what they compute of its images (`Facts`); at
// the last depth an application makes the smallest demonstration's image first and stops at the
// first image after which it can no longer become a candidate (`apply`, `narrow`).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <deque>
#include <unordered_set>

#include "primitives.hpp"

namespace py = pybind11;

namespace arc {
namespace {

struct State {
  bool list = false;
  std::vector<Imgs> v;  // per image of the task: one image, or the list
};

struct Node {
  State state;
  int parent;  // -1 for the root
  int fn;
  int depth;
};

struct Piece {
  std::vector<uint64_t> defined;  // over all demonstration cells, concatenated
  Imgs test;                      // the piece on the test inputs
  int mode;                       // 0: its non-zero cells, 1: its zero cells (as 0), 2: every cell
  int node, fn, depth;
  bool placed;
};

struct Candidate {
  std::string kind;  // "exact", "colour_map", "pieces"
  std::vector<std::string> steps;
  int depth;
  Imgs test;
};

using Clock = std::chrono::steady_clock;

py::list rows_of(const Img& a) {
  py::list rows;
  for (int i = 0; i < a.h; i++) {
    py::list row;
    for (int j = 0; j < a.w; j++) row.append(int(a(i, j)));
    rows.append(row);
  }
  return rows;
}

class Search {
 public:
  Search(Imgs inputs, Imgs targets, int n_demo, std::vector<Fn> fns, double time_limit, size_t memory_limit,
         size_t max_pieces, bool lazy_last, std::vector<std::pair<int, int>> place)
      : lazy_last_(lazy_last), place_(std::move(place)), inputs_(std::move(inputs)), targets_(std::move(targets)), n_demo_(n_demo), fns_(std::move(fns)),
        deadline_(Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(time_limit))),
        memory_limit_(memory_limit), max_pieces_(max_pieces) {
    for (auto& t : targets_) total_cells_ += t.m.size();
    words_ = (total_cells_ + 63) / 64;
    facts_.resize(inputs_.size());
  }

  void run(int max_depth) {
    start_ = Clock::now();
    State root;
    for (auto& img : inputs_) root.v.push_back({img});
    nodes_.push_back({root, -1, -1, 0});
    seen_.insert(key(root));
    check(root, 0, -1, 0);
    size_t begin = 0;
    for (int depth = 1; depth <= max_depth && !cut_; depth++) {
      size_t end = nodes_.size();
      bool last = depth == max_depth;
      for (size_t n = begin; n < end && !cut_; n++) {
        expanding(nodes_[n].state);
        for (int f = 0; f < int(fns_.size()); f++) {
          // The clock every 16 applications: reading it costs as much as a small one.
          if ((applications_ & 15) == 0 && Clock::now() > deadline_) {
            cut_ = true;
            break;
          }
          const Fn& fn = fns_[size_t(f)];
          bool makes_list = fn.kind == Fn::I2L || fn.kind == Fn::L2L;
          if (makes_list && last) continue;  // a list needs a step after it to become a grid
          State& next = scratch_;  // reused: its buffers stay allocated until a state is kept
          applications_++;
          if (!apply(fn, nodes_[n].state, next, last && lazy_last_)) continue;
          if (!seen_.insert(key(next)).second) continue;
          if (!next.list) check(next, int(n), f, depth);
          if (!last && memory_ < memory_limit_) {
            memory_ += footprint(next);
            nodes_.push_back({std::move(next), int(n), f, depth});
          } else if (!last) {
            memory_cut_ = true;
          }
        }
      }
      if (!cut_) depth_reached_ = depth;
      begin = end;
      if (!solutions_.empty()) break;  // the cheapest depth that solves it; its alternatives are kept
    }
    if (solutions_.empty()) stack_pieces();
    seconds_ = std::chrono::duration<double>(Clock::now() - start_).count();
  }

  py::dict result() const {
    py::list candidates;
    for (auto& c : solutions_) candidates.append(to_python(c));
    for (auto& c : stacked_) candidates.append(to_python(c));
    py::dict d;
    d["candidates"] = candidates;
    d["applications"] = applications_;
    d["states"] = nodes_.size();
    d["pieces"] = pieces_.size();
    d["depth_reached"] = depth_reached_;
    d["cut"] = cut_;
    d["memory_cut"] = memory_cut_;
    d["memory_bytes"] = memory_;
    d["seconds"] = seconds_;
    d["failures"] = failures_;
    return d;
  }

 private:
  bool lazy_last_;
  std::vector<std::pair<int, int>> place_;  // per image, the output size to place images on (or none)
  Imgs inputs_, targets_;
  int n_demo_;
  std::vector<Fn> fns_;
  Clock::time_point deadline_, start_;
  size_t memory_limit_, max_pieces_;
  size_t total_cells_ = 0, words_ = 0;
  std::deque<Node> nodes_;  // a deque: its states stay where they are, as `facts_` point into them
  std::vector<int> order_;  // the images in the order `apply` computes them
  std::vector<Facts> facts_;  // of each image of the state being expanded
  State scratch_;
  mutable Img placed_;  // `narrow`'s image placed on the output's size, its buffer reused
  std::unordered_set<uint64_t> seen_;
  std::vector<Candidate> solutions_, stacked_;
  std::vector<Piece> pieces_;
  std::unordered_set<uint64_t> piece_keys_;
  long long applications_ = 0, failures_ = 0;
  int depth_reached_ = 0;
  bool cut_ = false, memory_cut_ = false;
  size_t memory_ = 0;
  double seconds_ = 0;

  // Before the functions are applied to `s`: the facts of its images, and the order `apply`
  // computes them in: first the demonstration with the fewest cells, the cheapest to rule a
  // program out on at the last depth, then the others as they come.
  void expanding(const State& s) {
    if (!s.list)
      for (size_t k = 0; k < facts_.size(); k++) facts_[k].reset(s.v[k][0], int(k));
    order_.clear();
    for (int k = 0; k < int(s.v.size()); k++) order_.push_back(k);
    auto cells = [&](int k) {
      size_t n = 0;
      for (auto& img : s.v[size_t(k)]) n += img.m.size();
      return n;
    };
    auto probe = std::min_element(order_.begin(), order_.begin() + n_demo_,
                                  [&](int p, int q) { return cells(p) < cells(q); });
    std::rotate(order_.begin(), probe, probe + (n_demo_ > 0));
  }

  static size_t footprint(const State& s) {
    size_t bytes = sizeof(Node);
    for (auto& imgs : s.v)
      for (auto& img : imgs) bytes += sizeof(Img) + img.m.size();
    return bytes;
  }

  uint64_t key(const State& s) const {
    uint64_t h = s.list ? 0x51ed27ULL : 0x1234567ULL;
    for (int k = 0; k < n_demo_; k++) {
      h = mix(h, s.v[size_t(k)].size());
      for (auto& img : s.v[size_t(k)]) h = hash_img(img, h);
    }
    return h;
  }

  // What the demonstration images an application has made so far leave possible: a colour map
  // (one output colour per colour, across them all; the exact outputs among them), a layer
  // piece (right on its non-zero cells), a zeros piece (right on its zero cells). Every
  // candidate is one of these on every demonstration, so an application stops where none is
  // left (`lazy`). A piece must also define a cell of the first image made (which loses the
  // rare piece that defines none there, and rules out early the many images with no zero cell
  // or no other).
  struct Possible {
    int map[10];
    bool mappable = true, layer = true, zeros = true, first = true;
    bool layer_right = true, zeros_right = true;  // whether the pieces are right (first image aside)
    Possible() { std::fill(map, map + 10, -1); }
  };
  // What `narrow` told of the state `apply` made last, all of whose demonstration images it saw
  // where `apply` was lazy (else nothing is ruled out): `check` skips what it ruled out.
  Possible told_;

  // `p` narrowed by the image made for demonstration k; false where nothing is left.
  bool narrow(Possible& p, const Img& made, int k) const {
    const Img& t = targets_[size_t(k)];
    bool place = (made.w != t.w || made.h != t.h) && !place_.empty();
    if (place) embed_into(made, t.w, t.h, placed_);
    const Img& a = place ? placed_ : made;
    if (a.w != t.w || a.h != t.h) return false;
    // The pieces told without branches, in byte flags, which the compiler turns into vector
    // instructions (an int would widen every cell); the colour map after, cell by cell.
    const uint8_t* __restrict x = a.m.data();
    const uint8_t* __restrict y = t.m.data();
    int n = int(a.m.size());
    uint8_t filled = 0, empty = 0, wrong_layer = 0, wrong_zeros = 0;
    for (int c = 0; c < n; c++) {
      filled |= x[c];
      empty |= uint8_t(x[c] == 0);
      wrong_layer |= uint8_t((x[c] != 0) & (x[c] != y[c]));
      wrong_zeros |= uint8_t((x[c] == 0) & (y[c] != 0));
    }
    p.layer_right &= !wrong_layer;
    p.zeros_right &= !wrong_zeros;
    p.layer &= p.layer_right && (filled || !p.first);
    p.zeros &= p.zeros_right && (empty || !p.first);
    p.first = false;
    for (int c = 0; c < n && p.mappable; c++) {
      int& m = p.map[x[c]];
      if (m < 0) m = y[c];
      else if (m != y[c]) p.mappable = false;
    }
    return p.mappable || p.layer || p.zeros;
  }

  // The function on every image of `cur` (whose facts `facts_` holds), in `order_`; false where
  // it does not apply to one. `lazy`: at the last depth, nothing past a demonstration's image
  // after which it cannot become a candidate.
  bool apply(const Fn& fn, const State& cur, State& next, bool lazy) {
    bool from_list = fn.kind == Fn::L2I || fn.kind == Fn::L2L;
    if (from_list != cur.list) return false;
    next.list = fn.kind == Fn::I2L || fn.kind == Fn::L2L;
    next.v.resize(cur.v.size());
    told_ = Possible();
    try {
      for (int k : order_) {
        Imgs& out = next.v[size_t(k)];
        out.clear();
        switch (fn.kind) {
          case Fn::I2I: out.push_back(fn.ii(facts_[size_t(k)])); break;
          case Fn::I2L: out = fn.il(cur.v[size_t(k)][0]); break;
          case Fn::L2I: out.push_back(fn.li(cur.v[size_t(k)])); break;
          case Fn::L2L: out = fn.ll(cur.v[size_t(k)]); break;
        }
        if (out.empty() || out.size() > 64) return false;
        for (auto& img : out)
          if (img.bad()) return false;
        if (lazy && k < n_demo_ && !next.list && !narrow(told_, out[0], k)) return false;
      }
    } catch (const std::exception&) {
      failures_++;  // a function that fails on one image is counted and skipped
      return false;
    }
    return true;
  }

  std::vector<std::string> steps(int node, int fn) const {
    std::vector<std::string> out;
    if (fn >= 0) out.push_back(fns_[size_t(fn)].name);
    for (int n = node; n > 0; n = nodes_[size_t(n)].parent) out.push_back(fns_[size_t(nodes_[size_t(n)].fn)].name);
    std::reverse(out.begin(), out.end());
    return out;
  }

  Imgs test_images(const State& s) const {
    Imgs out;
    for (size_t k = size_t(n_demo_); k < s.v.size(); k++) out.push_back(s.v[k][0]);
    return out;
  }

  // `s` as the outputs: as it is where its sizes are the outputs', else each image placed at its
  // position on a canvas of the predicted output size (a free last step, named "place").
  bool placed_state(const State& s, State& out) const {
    if (place_.empty()) return false;
    out.list = false;
    out.v.resize(s.v.size());
    for (size_t k = 0; k < s.v.size(); k++) {
      const Img& a = s.v[k][0];
      auto [w, h] = place_[k];
      out.v[k] = {(a.w == w && a.h == h) ? a : embed(a, w, h)};
    }
    return true;
  }

  void check(const State& s, int node, int fn, int depth) {
    bool shapes = true;
    for (int k = 0; k < n_demo_ && shapes; k++)
      shapes = s.v[size_t(k)][0].w == targets_[size_t(k)].w && s.v[size_t(k)][0].h == targets_[size_t(k)].h;
    if (shapes) {
      check_sized(s, node, fn, depth, false);
      return;
    }
    State placed;
    if (placed_state(s, placed)) check_sized(placed, node, fn, depth, true);
  }

  void check_sized(const State& s, int node, int fn, int depth, bool placed) {
    for (int k = 0; k < n_demo_; k++) {
      const Img& a = s.v[size_t(k)][0];
      if (a.w != targets_[size_t(k)].w || a.h != targets_[size_t(k)].h) return;
    }
    bool exact = told_.mappable;  // equal outputs map every colour to itself
    for (int k = 0; k < n_demo_ && exact; k++) exact = s.v[size_t(k)][0].m == targets_[size_t(k)].m;
    if (exact) {
      auto st = steps(node, fn);
      if (placed) st.push_back("place");
      solutions_.push_back({"exact", st, depth + placed, test_images(s)});
      return;
    }
    if (told_.mappable) fit_colour_map(s, node, fn, depth, placed);
    collect_pieces(s, node, fn, depth, placed);
  }

  void fit_colour_map(const State& s, int node, int fn, int depth, bool placed) {
    int map[10];
    std::fill(map, map + 10, -1);
    for (int k = 0; k < n_demo_; k++) {
      const Img& a = s.v[size_t(k)][0];
      const Img& t = targets_[size_t(k)];
      for (size_t c = 0; c < a.m.size(); c++) {
        int& m = map[a.m[c]];
        if (m < 0) m = t.m[c];
        else if (m != t.m[c]) return;
      }
    }
    std::string text = "colour_map(";
    bool first = true;
    for (int c = 0; c < 10; c++)
      if (map[c] >= 0 && map[c] != c) {
        text += std::string(first ? "" : ",") + char('0' + c) + ">" + char('0' + map[c]);
        first = false;
      }
    text += ")";
    Imgs test = test_images(s);
    for (auto& img : test)
      for (auto& v : img.m)
        if (map[v] >= 0) v = uint8_t(map[v]);  // a colour no demonstration shows stays itself
    auto st = steps(node, fn);
    if (placed) st.push_back("place");
    st.push_back(text);
    solutions_.push_back({"colour_map", st, depth + 1 + placed, test});
  }

  void collect_pieces(const State& s, int node, int fn, int depth, bool placed) {
    if (pieces_.size() >= max_pieces_ || words_ == 0) return;
    for (int mode = 0; mode < 2; mode++) {
      if (!(mode == 0 ? told_.layer_right : told_.zeros_right)) continue;
      std::vector<uint64_t> defined(words_, 0);
      size_t bit = 0, count = 0;
      bool consistent = true;
      for (int k = 0; k < n_demo_ && consistent; k++) {
        const Img& a = s.v[size_t(k)][0];
        const Img& t = targets_[size_t(k)];
        for (size_t c = 0; c < a.m.size(); c++, bit++) {
          bool defines = mode == 0 ? a.m[c] != 0 : a.m[c] == 0;
          if (!defines) continue;
          if ((mode == 0 ? a.m[c] : 0) != t.m[c]) {
            consistent = false;
            break;
          }
          defined[bit / 64] |= 1ULL << (bit % 64);
          count++;
        }
      }
      if (!consistent || count == 0) continue;
      uint64_t h = mode;
      for (auto w : defined) h = mix(h, w);
      if (!piece_keys_.insert(h).second) continue;
      pieces_.push_back({std::move(defined), test_images(s), mode, node, fn, depth, placed});
    }
  }

  // Stack pieces until the cells in `open` (a bitset over the demonstration cells) are defined;
  // the chosen pieces in order, or none where they cannot be.
  std::vector<size_t> greedy(std::vector<uint64_t> open) const {
    std::vector<size_t> chosen;
    size_t remaining = 0;
    for (auto w : open) remaining += size_t(__builtin_popcountll(w));
    for (int round = 0; round < 10 && remaining; round++) {
      size_t best = pieces_.size(), gain = 0;
      for (size_t p = 0; p < pieces_.size(); p++) {
        size_t g = 0;
        for (size_t w = 0; w < words_; w++) g += size_t(__builtin_popcountll(pieces_[p].defined[w] & open[w]));
        if (g > gain) gain = g, best = p;
      }
      if (best == pieces_.size()) break;
      chosen.push_back(best);
      for (size_t w = 0; w < words_; w++) open[w] &= ~pieces_[best].defined[w];
      remaining -= gain;
    }
    if (remaining) chosen.clear();
    return chosen;
  }

  void stack_pieces() {
    if (pieces_.empty()) return;
    // Every cell defined by some piece; failing that, every non-zero cell, the rest left 0.
    std::vector<uint64_t> all(words_, 0), coloured(words_, 0);
    size_t bit = 0;
    for (int k = 0; k < n_demo_; k++)
      for (uint8_t v : targets_[size_t(k)].m) {
        all[bit / 64] |= 1ULL << (bit % 64);
        if (v) coloured[bit / 64] |= 1ULL << (bit % 64);
        bit++;
      }
    std::vector<size_t> chosen = greedy(std::move(all));
    if (chosen.empty()) chosen = greedy(std::move(coloured));
    if (chosen.empty()) return;
    // The test output: each cell from the first chosen piece that defines it.
    const Piece& first = pieces_[chosen[0]];
    Imgs test;
    for (size_t t = 0; t < first.test.size(); t++) {
      Img out = to_origin(first.test[t]);
      std::vector<uint8_t> set(out.m.size(), 0);
      for (size_t p : chosen) {
        const Img& img = pieces_[p].test[t];
        if (img.w != out.w || img.h != out.h) return;  // pieces that disagree on the test's size
        for (size_t c = 0; c < out.m.size(); c++) {
          bool defines = pieces_[p].mode == 0 ? img.m[c] != 0 : img.m[c] == 0;
          if (defines && !set[c]) set[c] = 1, out.m[c] = pieces_[p].mode == 0 ? img.m[c] : 0;
        }
      }
      for (size_t c = 0; c < out.m.size(); c++)
        if (!set[c]) out.m[c] = 0;
      test.push_back(out);
    }
    std::vector<std::string> text;
    int depth = 0;
    for (size_t p : chosen) {
      auto st = steps(pieces_[p].node, pieces_[p].fn);
      if (pieces_[p].placed) st.push_back("place");
      std::string joined;
      for (auto& s : st) joined += (joined.empty() ? "" : " | ") + s;
      text.push_back(std::string(pieces_[p].mode == 0 ? "layer[" : "zeros[") + (joined.empty() ? "input" : joined) + "]");
      depth += std::max(1, pieces_[p].depth);
    }
    stacked_.push_back({"pieces", text, depth, test});
  }

  py::dict to_python(const Candidate& c) const {
    py::dict d;
    d["kind"] = c.kind;
    d["steps"] = c.steps;
    d["depth"] = c.depth;
    py::list outs;
    for (auto& img : c.test) outs.append(rows_of(img));
    d["test"] = outs;
    return d;
  }
};

Img from_python(const std::vector<std::vector<int>>& rows) {
  int h = int(rows.size()), w = h ? int(rows[0].size()) : 0;
  Img a(0, 0, w, h);
  for (int i = 0; i < h; i++) {
    if (int(rows[size_t(i)].size()) != w) throw std::invalid_argument("ragged grid");
    for (int j = 0; j < w; j++) {
      int v = rows[size_t(i)][size_t(j)];
      if (v < 0 || v > 9) throw std::invalid_argument("colour out of 0..9");
      a(i, j) = uint8_t(v);
    }
  }
  return a;
}

using Grid = std::vector<std::vector<int>>;

py::dict search(const std::vector<Grid>& demo_inputs, const std::vector<Grid>& demo_outputs,
                const std::vector<Grid>& test_inputs, const std::vector<std::vector<std::pair<int, int>>>& sizes,
                int max_depth, double time_limit, size_t memory_limit, size_t max_pieces, bool lazy_last,
                std::vector<std::pair<int, int>> place) {
  if (!place.empty() && place.size() != demo_inputs.size() + test_inputs.size())
    throw std::invalid_argument("place: one (w, h) per image");
  Imgs inputs, targets;
  for (auto& g : demo_inputs) inputs.push_back(from_python(g));
  for (auto& g : test_inputs) inputs.push_back(from_python(g));
  for (auto& g : demo_outputs) targets.push_back(from_python(g));
  Search s(std::move(inputs), std::move(targets), int(demo_inputs.size()), all_functions(sizes), time_limit,
           memory_limit, max_pieces, lazy_last, std::move(place));
  {
    py::gil_scoped_release free;
    s.run(max_depth);
  }
  return s.result();
}

// An image as Python sees it: (x, y, rows).
py::tuple placed_rows(const Img& r) { return py::make_tuple(r.x, r.y, rows_of(r)); }

// Functions applied in turn to one grid, by name: for tests. An image comes back as (x, y, rows),
// a list as a list of those, a step that does not apply as None.
py::object apply_chain(const std::vector<std::string>& names, const Grid& g,
                       const std::vector<std::pair<int, int>>& sizes) {
  std::vector<std::vector<std::pair<int, int>>> table;
  if (!sizes.empty()) table.push_back(sizes);
  std::vector<Fn> fns = all_functions(table);
  Imgs cur{from_python(g)};
  bool list = false;
  for (auto& name : names) {
    auto fn = std::find_if(fns.begin(), fns.end(), [&](const Fn& f) { return f.name == name; });
    if (fn == fns.end()) throw std::invalid_argument("no function named " + name);
    bool from_list = fn->kind == Fn::L2I || fn->kind == Fn::L2L;
    if (from_list != list) throw std::invalid_argument(name + (list ? " takes an image" : " takes a list"));
    switch (fn->kind) {
      case Fn::I2I: {
        Facts facts(cur[0]);
        Img made = fn->ii(facts);
        cur = {std::move(made)};
        break;
      }
      case Fn::I2L: cur = fn->il(cur[0]); break;
      case Fn::L2I: cur = {fn->li(cur)}; break;
      case Fn::L2L: cur = fn->ll(cur); break;
    }
    list = fn->kind == Fn::I2L || fn->kind == Fn::L2L;
    if (cur.empty()) return py::none();
    for (auto& img : cur)
      if (img.bad()) return py::none();
  }
  if (!list) return placed_rows(cur[0]);
  py::list out;
  for (auto& img : cur) out.append(placed_rows(img));
  return out;
}

// Every image -> image function on one grid, in table order, all reading one `Facts` as the
// search's functions do when they expand a state: by name, (x, y, rows), or None where it does not
// apply. For tests: each must equal the function applied alone.
py::dict apply_every(const Grid& g, const std::vector<std::pair<int, int>>& sizes) {
  std::vector<std::vector<std::pair<int, int>>> table;
  if (!sizes.empty()) table.push_back(sizes);
  Img a = from_python(g);
  Facts facts(a);
  py::dict out;
  for (auto& fn : all_functions(table)) {
    if (fn.kind != Fn::I2I) continue;
    Img r = fn.ii(facts);
    out[py::str(fn.name)] = r.bad() ? py::object(py::none()) : py::object(placed_rows(r));
  }
  return out;
}

std::vector<std::string> function_names(int n_sizes) {
  std::vector<std::vector<std::pair<int, int>>> table(size_t(n_sizes), {{1, 1}});
  std::vector<std::string> out;
  for (auto& fn : all_functions(table)) out.push_back(fn.name);
  return out;
}

}  // namespace
}  // namespace arc

PYBIND11_MODULE(_core, m) {
  m.doc() = "arcttt's compiled program search (see arcttt/programs/csrc/search.cpp)";
  m.def("search", &arc::search, py::arg("demo_inputs"), py::arg("demo_outputs"), py::arg("test_inputs"),
        py::arg("sizes"), py::arg("max_depth") = 3, py::arg("time_limit") = 10.0,
        py::arg("memory_limit") = size_t(1) << 30, py::arg("max_pieces") = 20000, py::arg("lazy_last") = true,
        py::arg("place") = std::vector<std::pair<int, int>>{});
  m.def("apply", &arc::apply_chain, py::arg("names"), py::arg("grid"),
        py::arg("sizes") = std::vector<std::pair<int, int>>{});
  m.def("apply_every", &arc::apply_every, py::arg("grid"), py::arg("sizes") = std::vector<std::pair<int, int>>{});
  m.def("function_names", &arc::function_names, py::arg("sizes") = 1);
}

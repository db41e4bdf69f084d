// The DSL's functions. Each is small and pure; the search composes them.
// Four kinds: image -> image, image -> list, list -> image, list -> list.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "image.hpp"

namespace arc {

// A repeating pattern that fits an image: cell (i, j) shows cls[class of (i, j)] (see Classes
// in primitives.cpp); none where cls is empty.
struct Period {
  int unknown = 0, max_area = 0;  // what it was asked for
  int kind = 0, py = 0, px = 0;
  std::vector<int> cls;
};

// What several functions need of one image, computed on first use and kept. The search keeps one
// per image of the state it expands, so the functions it applies to that state share them: the 15
// ray functions and the 5 connect functions share 8 ray passes, the hole and border functions two
// floods, the four periodic functions their periods. A function called on a bare image makes its
// own (`Facts f(a)`).
class Facts {
 public:
  Facts() = default;
  explicit Facts(const Img& a, int image = 0) { reset(a, image); }
  // Facts of `a`, which stays where it is while they are used; `image`: which image of the task.
  void reset(const Img& a, int image);
  const Img& img() const { return *a_; }
  int image() const { return image_; }
  const int* counts();                     // cells of each colour
  int majority();                          // the most frequent non-zero colour (most_frequent)
  int components();                        // count_components
  const uint8_t* ray(int direction);       // per cell: the colour a ray brings to an empty cell, else 0
  const uint64_t* outside(bool diagonal);  // per row, as bits: reached from beyond the edge
  const Img& filled();                     // fill_holes
  const Img& border();                     // border
  const Period& period(int unknown, int max_area);

 private:
  enum : unsigned { RAYS = 0, OUTSIDE = 8, FILLED = 10, BORDER = 11, COUNTS = 12 };  // bits of known_
  bool missing(unsigned bit);  // whether that fact is still to compute; it counts as known after
  const Img* a_ = nullptr;
  int image_ = 0, majority_ = -1, components_ = -1, counts_[10];
  unsigned known_ = 0;
  uint8_t rays_[8][MAXCELLS];
  uint64_t outside_[2][MAXSIDE + 2];
  Img filled_, border_;
  std::vector<Period> periods_;
};

// --- image -> image -------------------------------------------------------------------------
Img filter_colour(const Img& a, int c);    // keep colour c (c = 0: the empty cells, in a colour)
Img erase_colour(const Img& a, int c);     // colour c -> 0
Img colour_shape(const Img& a, int c);     // every non-zero cell -> c
Img invert(const Img& a);                  // empty <-> the lowest present colour
Img compress(const Img& a);                // crop to the non-zero cells (keeps the position)
Img compress_rows_cols(const Img& a);      // drop empty rows and columns
Img compress_repeats(const Img& a);        // drop rows/columns equal to the one before
Img get_pos(Facts& f);
Img get_size(Facts& f);
Img get_size0(const Img& a);
Img hull(Facts& f);
Img hull0(const Img& a);
Img to_origin(Img a);
Img fill_holes(Facts& f);                  // enclosed empty cells -> the majority colour
Img interior(Facts& f);
Img interior(const Img& a);
Img interior2(Facts& f);
Img border(Facts& f);
Img centre(const Img& a);
Img majority_image(Facts& f);              // 1x1 of the majority colour
Img rigid(const Img& a, int id);           // 0 identity, 1 ccw, 2 180, 3 cw, 4 flip x, 5 flip y, 6, 7 diagonals
Img count_image(Facts& f, int what, int shape);
Img smear(Facts& f, int id);               // rays in 15 direction sets
Img make_border(const Img& a);
Img make_border2(Facts& f, bool majority);
Img connect(Facts& f, int id);             // join equal colours in rows / columns / both / diagonals
Img spread_colours(Facts& f, bool skip_majority);
Img half(const Img& a, int id);
Img gravity_cells(const Img& a, int dir);  // cells fall (0 down, 1 up, 2 right, 3 left)
Img scale_up(const Img& a, int k);
Img scale_down(const Img& a, int k);
Img symmetrize(const Img& a, int id);      // complete a mirror symmetry (0 lr, 1 ud, 2 both, 3 diagonal)
Img outline_objects(const Img& a);         // keep the outline of each object
Img largest_colour_fill(Facts& f);         // every non-zero cell -> the majority colour
Img fractal(const Img& a, bool by_mask);   // each set cell becomes a copy of the image
Img scale_by_colours(Facts& f);            // scale up by the number of colours
Img periodic_fill(Facts& f, int unknown);  // repair a repeating pattern's `unknown` cells
Img periodic_extend(Facts& f, int w, int h);  // continue a repeating pattern to a size
// with an argument of a size (the predicted output's)
Img embed(const Img& a, int w, int h);
void embed_into(const Img& a, int w, int h, Img& r);  // into r's buffer, which it keeps
Img wrap(const Img& a, int w, int h);
Img broadcast(const Img& a, int w, int h);
Img repeat(const Img& a, int w, int h, int pad);
Img mirror(const Img& a, int w, int h, int pad);

// --- image -> list --------------------------------------------------------------------------
Imgs cut(const Img& a);                    // pieces between the separator colour (heuristic)
Imgs split_colours(const Img& a);          // one image per non-zero colour
Imgs split_all(const Img& a);              // 4-connected one-colour components
Imgs split_objects(const Img& a);          // 8-connected multi-colour components
Imgs split_columns(const Img& a);
Imgs split_rows(const Img& a);
Imgs inside_marked(const Img& a);
Imgs gravity_objects(const Img& a, int dir);
Imgs split_grid(const Img& a);             // cells of a regular grid of separator lines

// --- list -> image --------------------------------------------------------------------------
Img pick_max(const Imgs& v, int id);       // 16 criteria
Img pick_unique(const Imgs& v);
Img compose_growing(const Imgs& v);
Img stack_line(const Imgs& v);
Img my_stack(const Imgs& v, int orient);
Img overlay_all(const Imgs& v);            // cells of all, in order, at the origin (AND/OR of parts)
Img and_all(const Imgs& v);                // cells non-zero in every part (the first's colour)
Img xor_all(const Imgs& v);                // cells non-zero in exactly one part

// --- list -> list ---------------------------------------------------------------------------
Imgs pick_maxes(const Imgs& v, int id, bool invert);

Img compose(const Img& a, const Img& b, int id);

// A function of the search, with its name and kind.
struct Fn {
  enum Kind { I2I, I2L, L2I, L2L } kind;
  std::string name;
  std::function<Img(Facts&)> ii;  // the image and its facts
  std::function<Imgs(const Img&)> il;
  std::function<Img(const Imgs&)> li;
  std::function<Imgs(const Imgs&)> ll;
};

// Every function, in the fixed order that ranks programs of equal length. `sizes[k]` holds one
// (w, h) per image the search runs on: a predicted output size for the size-bound functions.
std::vector<Fn> all_functions(const std::vector<std::vector<std::pair<int, int>>>& sizes);

}  // namespace arc

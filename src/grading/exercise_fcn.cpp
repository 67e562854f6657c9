// Exercise on FCN's up-sampling (lesson 07): max unpooling. A 2 x 2 max pool remembers,
// for every window, where its maximum was (the "switches"); max unpooling puts each value
// of a decoder map back at its window's switch and zeros everywhere else.
#include "grading/exercises.h"
#include "tensor/pool.h"

namespace dl::grading {
using json = nlohmann::json;

void add_fcn_exercises(std::vector<Exercise>& out) {
  out.push_back(
      {"max_unpool",
       "max unpooling: the 2 x 2 max pool's switches (first maximum on ties) and the "
       "decoder map put back at them, zeros elsewhere",
       "src/tensor/pool.cpp (max_pool2d_forward, max_unpool2d_forward)",
       [](const json& in, const ExerciseContext&) {
         const Tensor x = tensor_from_json(input(in, "x"), "x");
         if (x.dim() != 4 || x.size(2) < 2 || x.size(3) < 2)
           throw std::invalid_argument("input x: expected [N, C, H, W] with H, W >= 2");
         const MaxPoolResult p = max_pool2d_forward(x, {});  // 2 x 2, stride 2
         // The decoder's map to unpool (the pooled map itself when the case gives none).
         const Tensor v = in.contains("values") ? tensor_from_json(in["values"], "values") : p.y;
         if (v.shape() != p.y.shape())
           throw std::invalid_argument("input values: expected the pooled map's shape");
         const Tensor up = max_unpool2d_forward(v, p.argmax, x.size(2), x.size(3));
         return json{{"switches", p.argmax}, {"unpooled", tensor_to_json(up)}};
       },
       /*uses*/ {},
       /*hint*/ "max_pool2d_forward records, for each 2 x 2 window, the flat index of its maximum (the "
                "first one on ties); max_unpool2d_forward writes each value back at its recorded index of "
                "a map of zeros."});
}

}  // namespace dl::grading

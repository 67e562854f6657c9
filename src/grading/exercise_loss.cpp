// Exercise on losses: the classification + localisation multitask loss and its
// gradients with respect to the class scores and the predicted box.
#include "autograd/variable.h"
#include "grading/exercises.h"
#include "models/multitask_loss.h"

namespace dl::grading {
using json = nlohmann::json;

void add_loss_exercises(std::vector<Exercise>& out) {
  out.push_back({"multitask_loss", "L = CE(scores, class) + lambda * L2(box), value and gradients",
                 "src/models/multitask_loss.cpp (classify_localize_loss)",
                 [](const json& in, const ExerciseContext&) {
                   Var scores(tensor_from_json(input(in, "scores"), "scores"), true);
                   Var boxes(tensor_from_json(input(in, "boxes"), "boxes"), true);
                   const Tensor labels = tensor_from_json(input(in, "labels"), "labels");
                   const Tensor targets = tensor_from_json(input(in, "targets"), "targets");
                   MultitaskLoss l = classify_localize_loss(scores, labels, boxes, targets,
                                                            input(in, "lambda").get<float>());
                   l.total.backward();
                   return json{{"loss", number(l.total.item())},
                               {"classification", number(l.classification.item())},
                               {"localization", number(l.localization.item())},
                               {"grad_scores", tensor_to_json(scores.grad())},
                               {"grad_boxes", tensor_to_json(boxes.grad())}};
                 },
                 /*uses*/ {},
                 /*hint*/ "L = cross-entropy(scores, class) + lambda * L2(predicted box, target box). "
                          "Build it from autograd ops so that backward gives the gradients of both terms."});
}

}  // namespace dl::grading

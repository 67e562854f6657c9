// Starter files (`bin/grade --starter DIR`): a copy of each exercise's source file with
// the bodies of the functions a student writes replaced by a TODO comment carrying the
// exercise's hint and a throw. The copy compiles as it is, and graded it fails every
// case of its exercises (the throw is an "error" even for a case whose right answer is
// an empty list, which a returned default would pass by accident).
#pragma once
#include <string>
#include <vector>

namespace dl::grading {

struct BlankFunction {
  std::string name;       // e.g. "box_iou"; every definition of it in the file is blanked
  std::string exercise;   // whose hint goes into the TODO
  std::string hint;
};

// The text of a .cpp file with the bodies of `blanks` replaced. A definition is a line
// starting at column 0 (namespace scope) that names the function and is followed by
// its body. Throws std::invalid_argument when a function has no definition in the text.
std::string blank_functions(const std::string& text, const std::string& file,
                            const std::vector<BlankFunction>& blanks);

struct StarterFile {
  std::string file;                    // e.g. "src/detection/boxes.cpp"
  std::vector<std::string> exercises;  // the exercises written in it
};

// Writes DIR/<file> for every exercise's file (read from source_root) and DIR/README.md
// saying how to grade them. Returns the files, in registry order.
std::vector<StarterFile> write_starter(const std::string& source_root, const std::string& dir);

}  // namespace dl::grading

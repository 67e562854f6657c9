// The Tensor: a float32 n-d array (up to 5 dims), always contiguous (row-major),
// whose storage may be shared between tensors (reshape and slicing the first axis
// make views; everything else makes a new tensor). Shape errors throw ShapeError
// with a message naming the operation and the shapes, never undefined behaviour.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dl {

using Shape = std::vector<int64_t>;
constexpr int kMaxDims = 5;

// An allocator whose resize(n) leaves new floats uninitialised (value-initialisation
// becomes default-initialisation): an op that writes every element of its output
// need not pay for zeroing it first (Tensor::uninitialized).
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using Storage = std::vector<float, DefaultInitAllocator<float>>;

struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

std::string shape_str(const Shape& s);       // "[2, 3, 4]"
int64_t shape_numel(const Shape& s);
// Throws ShapeError("op: ...") unless cond holds. The message is built by the caller
// before the call, even when cond holds: on hot paths (every tensor made, every at())
// write `if (!cond) shape_error(op, ...)`, which builds it only on failure.
void check_shape(bool cond, const char* op, const std::string& what);
[[noreturn]] void shape_error(const char* op, const std::string& what);
// Normalises a possibly negative axis into [0, ndim); throws when out of range.
int normalize_axis(int axis, int ndim, const char* op);
// A shape seen as [outer, len, inner] around `axis` (a normalised one): the lanes that a
// reduction or a softmax runs along, element k of lane (o, i) at (o * len + k) * inner + i.
struct Lanes {
  int64_t outer = 1, len = 1, inner = 1;
};
Lanes lanes_of(const Shape& s, int axis);

class Tensor {
 public:
  Tensor() = default;                                   // undefined (no storage)
  explicit Tensor(const Shape& shape);                  // zero-filled
  Tensor(const Shape& shape, std::vector<float> values);
  Tensor(const Shape& shape, float value);              // filled with value
  // Storage whose values are undefined until written: only for an op's output that
  // the op then writes completely (it saves zeroing, and touching the pages twice).
  static Tensor uninitialized(const Shape& shape);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int dim() const { return static_cast<int>(shape_.size()); }
  int64_t size(int axis) const;                         // negative axis counts from the end
  int64_t numel() const { return numel_; }
  std::string shape_str() const { return dl::shape_str(shape_); }

  float* data() { return storage_ ? storage_->data() + offset_ : nullptr; }
  const float* data() const { return storage_ ? storage_->data() + offset_ : nullptr; }
  float* begin() { return data(); }
  float* end() { return data() + numel_; }
  const float* begin() const { return data(); }
  const float* end() const { return data() + numel_; }
  float& operator[](int64_t i) { return data()[i]; }
  float operator[](int64_t i) const { return data()[i]; }
  // Bounds-checked element access by full index (for tests and small code).
  float& at(std::initializer_list<int64_t> idx);
  float at(std::initializer_list<int64_t> idx) const;
  float item() const;                                   // the value of a 1-element tensor

  // A view with a new shape (one entry may be -1); shares storage.
  Tensor reshape(const Shape& shape) const;
  // A view of rows [start, end) of the first axis; shares storage.
  Tensor narrow0(int64_t start, int64_t end) const;
  Tensor clone() const;                                 // deep copy
  bool shares_storage(const Tensor& o) const { return storage_ && storage_ == o.storage_; }
  // No other tensor (or view) holds this storage: taking it over aliases nothing.
  bool sole_owner() const { return storage_ && storage_.use_count() == 1; }
  void fill(float v);
  std::vector<float> to_vector() const { return std::vector<float>(begin(), end()); }

 private:
  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;
  int64_t numel_ = 0;
  Shape shape_;
};

}  // namespace dl

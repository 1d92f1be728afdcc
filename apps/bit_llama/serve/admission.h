// Generation slots: at most `parallel` generations run at once and at most
// `max_queue` requests wait for a slot; any more are refused (HTTP 429).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>

namespace bit_ttt::serve {

class Admission {
 public:
  Admission(int parallel, int max_queue) : parallel_(parallel), max_queue_(max_queue) {}

  enum class Result { entered, queue_full, shutting_down };
  // Waits for a free slot; the caller must leave() after `entered`.
  Result enter() {
    std::unique_lock lock(mutex_);
    if (shutting_down_) return Result::shutting_down;
    if (active_ >= parallel_) {
      if (waiting_ >= max_queue_) return Result::queue_full;
      ++waiting_;
      freed_.wait(lock, [&] { return active_ < parallel_ || shutting_down_; });
      --waiting_;
      if (shutting_down_) return Result::shutting_down;
    }
    ++active_;
    return Result::entered;
  }
  void leave() {
    {
      std::lock_guard lock(mutex_);
      --active_;
    }
    freed_.notify_one();
  }
  void shutdown() {
    {
      std::lock_guard lock(mutex_);
      shutting_down_ = true;
    }
    freed_.notify_all();
  }
  int active() const {
    std::lock_guard lock(mutex_);
    return active_;
  }
  int waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_;
  }

 private:
  const int parallel_;
  const int max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  int active_ = 0;
  int waiting_ = 0;
  bool shutting_down_ = false;
};

// Holds one slot; leaves when destroyed (also when a stream ends or is dropped).
class Slot {
 public:
  explicit Slot(Admission& admission) : admission_(admission) {}
  ~Slot() { admission_.leave(); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  Admission& admission_;
};

}  // namespace bit_ttt::serve

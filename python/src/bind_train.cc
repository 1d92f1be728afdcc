// Training and data preparation from Python. Each runs on a worker thread (a
// Job) so the calling thread can report progress to a Python callback and turn
// KeyboardInterrupt into the trainer's clean stop; bit_ttt/_training.py drives it.
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bindings.h"
#include "data/prepare.h"
#include "train/trainer.h"

namespace bit_ttt::python {
namespace {

// Runs `work` on its own thread; `stop` is what the work polls to end early.
class Job {
 public:
  template <typename Result>
  explicit Job(std::function<Result(const std::atomic<bool>&)> work,
               std::function<void(const Result&, py::dict&)> to_dict) {
    worker_ = std::thread([this, work = std::move(work), to_dict = std::move(to_dict)] {
      try {
        Result result = work(stop_);
        std::lock_guard<std::mutex> lock(mutex_);
        make_result_ = [result = std::move(result), to_dict] {
          py::dict dict;
          to_dict(result, dict);
          return dict;
        };
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        done_ = true;
      }
      changed_.notify_all();
    });
  }
  ~Job() {
    stop_ = true;
    if (worker_.joinable()) worker_.join();
  }
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  // True once finished; waits at most `seconds` (None: until finished).
  bool wait(std::optional<double> seconds) {
    py::gil_scoped_release release;
    std::unique_lock<std::mutex> lock(mutex_);
    if (!seconds) {
      changed_.wait(lock, [&] { return done_; });
    } else {
      changed_.wait_for(lock, std::chrono::duration<double>(std::max(0.0, *seconds)),
                        [&] { return done_; });
    }
    return done_;
  }
  void stop() { stop_ = true; }
  bool done() {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_;
  }
  // The result as a dict; re-raises the job's error. Waits for the end.
  py::dict result() {
    wait(std::nullopt);
    if (error_) std::rethrow_exception(error_);
    return make_result_();
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  bool done_ = false;
  std::exception_ptr error_;
  std::function<py::dict()> make_result_;
  std::thread worker_;  // last: starts after every other member exists
};

std::unique_ptr<Job> start_training(const TrainOptions& options) {
  if (options.data.empty())
    throw py::value_error("train: `data` (train.bin or its directory) is required");
  return std::make_unique<Job>(
      std::function<TrainResult(const std::atomic<bool>&)>(
          [options](const std::atomic<bool>& stop) { return train(options, &stop); }),
      std::function<void(const TrainResult&, py::dict&)>([](const TrainResult& r, py::dict& d) {
        d["final_step"] = r.final_step;
        d["final_loss"] = r.final_loss;
        d["best_val_loss"] = std::isnan(r.best_val_loss) ? py::object(py::none())
                                                         : py::object(py::float_(r.best_val_loss));
        d["interrupted"] = r.interrupted;
        d["last_checkpoint"] = r.last_checkpoint;
      }));
}

std::unique_ptr<Job> start_prepare(const std::vector<std::filesystem::path>& inputs,
                                   const std::filesystem::path& tokenizer,
                                   const std::filesystem::path& out, double val_fraction,
                                   const std::string& field, const std::string& separator,
                                   bool skip_invalid, bool no_eos, int threads, int64_t min_tokens,
                                   bool quiet) {
  if (inputs.empty())
    throw py::value_error("prepare: `inputs` must name at least one file or directory");
  if (!(val_fraction >= 0.0 && val_fraction <= 1.0))
    throw py::value_error(concat("prepare: val_fraction must be in [0, 1], got ", val_fraction));
  if (threads < 0) throw py::value_error(concat("prepare: threads must be >= 0, got ", threads));
  if (min_tokens < 0)
    throw py::value_error(concat("prepare: min_tokens must be >= 0, got ", min_tokens));
  data::PrepareOptions options;
  options.inputs = inputs;
  options.tokenizer_path = tokenizer;
  options.out_dir = out;
  options.val_fraction = val_fraction;
  options.jsonl_field = field;
  options.separator = separator;
  options.skip_invalid = skip_invalid;
  options.no_eos = no_eos;
  options.n_threads = threads;
  options.min_tokens = min_tokens;
  options.progress = quiet ? ProgressBar::Style::none : ProgressBar::Style::automatic;
  return std::make_unique<Job>(
      std::function<data::PrepareStats(const std::atomic<bool>&)>(
          [options](const std::atomic<bool>&) { return data::prepare_corpus(options); }),
      std::function<void(const data::PrepareStats&, py::dict&)>(
          [](const data::PrepareStats& s, py::dict& d) {
            d["n_files"] = s.n_files;
            d["n_bytes"] = s.n_bytes;
            d["n_train_documents"] = s.n_train_documents;
            d["n_val_documents"] = s.n_val_documents;
            d["n_train_tokens"] = s.n_train_tokens;
            d["n_val_tokens"] = s.n_val_tokens;
            d["n_skipped_invalid"] = s.n_skipped_invalid;
            d["n_empty_documents"] = s.n_empty_documents;
            d["first_skipped"] = s.first_skipped;
            d["seconds"] = s.seconds;
            d["train_path"] = s.train_path;
            d["val_path"] = s.val_path;
            d["summary"] = data::format_prepare_summary(s);
          }));
}

}  // namespace

void register_train(py::module_& m) {
  py::class_<TrainOptions>(m, "TrainOptions", R"doc(
The options of `bit_llama train` / train_llama, one attribute per flag (dashes
become underscores: --context-len -> context_len). bit_ttt.train(...) builds one
from keyword arguments.
)doc")
      .def(py::init<>())
      .def_readwrite("dim", &TrainOptions::dim, "hidden dimension D (new runs)")
      .def_readwrite("layers", &TrainOptions::layers, "number of blocks (new runs)")
      .def_readwrite("inner_lr", &TrainOptions::inner_lr, "TTT inner learning rate")
      .def_readwrite("activation_quant", &TrainOptions::activation_quant, "'none' or 'int8'")
      .def_readwrite("data", &TrainOptions::data, "train.bin, or the directory prepare wrote")
      .def_readwrite("val_data", &TrainOptions::val_data, "default: val.bin beside data")
      .def_readwrite("tokenizer", &TrainOptions::tokenizer, "default: tokenizer.json beside data")
      .def_readwrite("context_len", &TrainOptions::context_len)
      .def_readwrite("batch_size", &TrainOptions::batch_size)
      .def_readwrite("grad_accum", &TrainOptions::grad_accum)
      .def_readwrite("steps", &TrainOptions::steps)
      .def_readwrite("lr", &TrainOptions::lr)
      .def_readwrite("min_lr", &TrainOptions::min_lr)
      .def_readwrite("warmup_steps", &TrainOptions::warmup_steps)
      .def_readwrite("weight_decay", &TrainOptions::weight_decay)
      .def_readwrite("grad_clip", &TrainOptions::grad_clip)
      .def_readwrite("seed", &TrainOptions::seed)
      .def_readwrite("output_dir", &TrainOptions::output_dir)
      .def_readwrite("load", &TrainOptions::load, "checkpoint (or output dir) to resume from")
      .def_readwrite("save_interval", &TrainOptions::save_interval)
      .def_readwrite("val_interval", &TrainOptions::val_interval)
      .def_readwrite("val_batches", &TrainOptions::val_batches)
      .def_readwrite("log_interval", &TrainOptions::log_interval)
      .def_readwrite("stop_at_step", &TrainOptions::stop_at_step)
      .def_readwrite("keep_checkpoints", &TrainOptions::keep_checkpoints)
      .def_readwrite("threads", &TrainOptions::threads)
      .def_readwrite("device", &TrainOptions::device,
                     "where the training math runs: 'cpu' or 'cuda' (same checkpoints)")
      .def("to_json", &TrainOptions::to_json)
      .def("__repr__",
           [](const TrainOptions& self) { return "TrainOptions(" + self.to_json() + ")"; });

  py::class_<Job>(m, "_Job", "a training or prepare run on a worker thread (internal)")
      .def("wait", &Job::wait, py::arg("seconds") = py::none())
      .def("stop", &Job::stop)
      .def_property_readonly("done", &Job::done)
      .def("result", &Job::result);

  m.def("_start_training", &start_training, py::arg("options"));
  m.def("_start_prepare", &start_prepare, py::arg("inputs"), py::arg("tokenizer"), py::arg("out"),
        py::arg("val_fraction"), py::arg("field"), py::arg("separator"), py::arg("skip_invalid"),
        py::arg("no_eos"), py::arg("threads"), py::arg("min_tokens"), py::arg("quiet"));
}

}  // namespace bit_ttt::python

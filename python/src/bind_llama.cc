// Llama (model + tokenizer + memory, text in and out), Tokenizer, and the
// streaming iterator. Python callbacks run with the GIL reacquired; a Python
// exception raised in a callback stops generation and is re-raised afterwards.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bindings.h"
#include "bit_ttt/llama.h"
#include "bit_ttt/tokenizer.h"

namespace bit_ttt::python {
namespace {

struct PyLlama {
  explicit PyLlama(Llama loaded) : llama(std::move(loaded)) {}
  Llama llama;
  std::mutex mutex;                    // one engine call at a time (the GIL is released)
  std::atomic<bool> streaming{false};  // a GenerationStream owns the Llama until it ends

  void check_not_streaming() const {
    if (streaming)
      throw std::runtime_error(
          "this Llama is busy with a stream() that has not finished; exhaust it or call its "
          "close() first");
  }
};

GenerateOptions generate_options(int max_tokens, float temperature, int top_k, float top_p,
                                 float min_p, float repetition_penalty, int repeat_last_n,
                                 uint64_t seed, const py::object& stop, bool stop_at_eos) {
  GenerateOptions options;
  if (max_tokens < 0) throw py::value_error(concat("max_tokens must be >= 0, got ", max_tokens));
  options.max_tokens = max_tokens;
  options.sampling.temperature = temperature;
  options.sampling.top_k = top_k;
  options.sampling.top_p = top_p;
  options.sampling.min_p = min_p;
  options.sampling.repetition_penalty = repetition_penalty;
  options.sampling.repeat_last_n = repeat_last_n;
  options.sampling.seed = seed;
  options.stop_at_eos = stop_at_eos;
  as_value_error([&] { options.sampling.validate(); });
  if (py::isinstance<py::str>(stop)) {
    options.stop.push_back(stop.cast<std::string>());
  } else if (!stop.is_none()) {
    options.stop = stop.cast<std::vector<std::string>>();
  }
  for (const std::string& text : options.stop)
    if (text.empty()) throw py::value_error("stop strings must not be empty");
  return options;
}

// A C++ TextCallback that calls a Python callable. The caller keeps `callback`
// alive and holds no GIL while the engine runs; `error` receives a Python
// exception raised by the callback (generation then stops).
TextCallback python_callback(const py::handle& callback, std::exception_ptr& error) {
  if (callback.is_none()) return {};
  return [callback, &error](std::string_view piece) -> bool {
    py::gil_scoped_acquire acquire;
    try {
      const py::object result = callback(py::reinterpret_steal<py::str>(
          PyUnicode_DecodeUTF8(piece.data(), static_cast<py::ssize_t>(piece.size()), "replace")));
      return result.is_none() || PyObject_IsTrue(result.ptr()) == 1;
    } catch (...) {
      error = std::current_exception();
      return false;
    }
  };
}

GenerationResult run_generate(PyLlama& self, const std::string& prompt,
                              const GenerateOptions& options, const py::object& callback) {
  self.check_not_streaming();
  std::exception_ptr callback_error;
  GenerationResult result;
  {
    const TextCallback on_piece = python_callback(callback, callback_error);
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(self.mutex);
    result = self.llama.generate(prompt, options, on_piece);
  }
  if (callback_error) std::rethrow_exception(callback_error);
  return result;
}

// `for piece in llama.stream(...)`: a worker thread runs Llama::generate and hands
// each piece over through a one-slot queue, so it never runs more than one token
// ahead of the consumer; closing (or dropping) the iterator makes the next
// callback return false, which ends generation cleanly, and joins the worker.
class GenerationStream {
 public:
  GenerationStream(std::shared_ptr<PyLlama> owner, std::string prompt, GenerateOptions options)
      : owner_(std::move(owner)) {
    if (owner_->streaming.exchange(true))
      throw std::runtime_error("this Llama already has an unfinished stream(); close it first");
    worker_ = std::thread(
        [this, prompt = std::move(prompt), options = std::move(options)] { run(prompt, options); });
  }
  ~GenerationStream() {
    // The worker may wait for the Llama's mutex held by a thread that needs the GIL.
    if (Py_IsInitialized() && PyGILState_Check()) {
      py::gil_scoped_release release;
      stop_and_join();
    } else {
      stop_and_join();
    }
  }
  GenerationStream(const GenerationStream&) = delete;
  GenerationStream& operator=(const GenerationStream&) = delete;

  py::str next() {
    std::string piece;
    bool have_piece = false;
    {
      py::gil_scoped_release release;
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return !queue_.empty() || done_; });
      if (!queue_.empty()) {
        piece = std::move(queue_.front());
        queue_.pop_front();
        have_piece = true;
      }
    }
    changed_.notify_all();
    if (have_piece) return py::str(piece);
    if (error_) {
      const std::exception_ptr error = std::exchange(error_, nullptr);
      std::rethrow_exception(error);
    }
    throw py::stop_iteration();
  }

  void close() {
    py::gil_scoped_release release;
    stop_and_join();
  }

  std::optional<GenerationResult> result() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!done_) return std::nullopt;
    return result_;
  }

 private:
  void run(const std::string& prompt, const GenerateOptions& options) {
    try {
      std::lock_guard<std::mutex> llama_lock(owner_->mutex);
      const GenerationResult result =
          owner_->llama.generate(prompt, options, [this](std::string_view piece) {
            std::unique_lock<std::mutex> lock(mutex_);
            changed_.wait(lock, [&] { return queue_.empty() || stop_; });
            if (stop_) return false;
            queue_.emplace_back(piece);
            changed_.notify_all();
            return true;
          });
      std::lock_guard<std::mutex> lock(mutex_);
      result_ = result;
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    owner_->streaming = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
  }

  void stop_and_join() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  std::shared_ptr<PyLlama> owner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;
  bool done_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  GenerationResult result_;
  std::thread worker_;
};

std::shared_ptr<PyLlama> load_llama(const std::filesystem::path& path, const std::string& device,
                                    std::optional<int64_t> n_gpu_layers, int n_threads,
                                    bool verify) {
  check_device(device);
  if (n_gpu_layers && device == "cpu")
    throw py::value_error(
        concat("n_gpu_layers = ", *n_gpu_layers, " needs device='cuda' (device is 'cpu')"));
  if (!std::filesystem::exists(path))
    throw py::value_error(concat(path.string(),
                                 ": no such file or directory (expected a model directory or a "
                                 ".bitt file)"));
  LoadOptions options;
  options.device = device;
  options.n_gpu_layers = n_gpu_layers;
  options.n_threads = n_threads;
  options.verify = verify;
  py::gil_scoped_release release;
  return std::make_shared<PyLlama>(Llama::load_auto(path, options));
}

const char* const kSamplingDoc = R"doc(
max_tokens: tokens to generate at most. temperature: <= 0 is greedy.
top_k (0 = off), top_p (1 = off), min_p (0 = off), repetition_penalty (1 = off),
repeat_last_n (-1 = all), seed: the sampler's random seed.
stop: a string or list of strings that end generation (never included).
stop_at_eos: stop at the end-of-text token. Bad values are a ValueError.)doc";

}  // namespace

void register_llama(py::module_& m) {
  // pybind11 keeps the pointer of a docstring: these must outlive the module.
  static const std::string generate_doc =
      std::string(
          "Continues the memory with `prompt`, then generates; returns the text (a "
          "GenerationResult with return_result=True). callback(piece) as in "
          "stream_completion.\n") +
      kSamplingDoc;
  static const std::string stream_doc =
      std::string(
          "An iterator of text pieces: `for piece in llm.stream(prompt): ...`. Breaking out of "
          "the loop stops generation cleanly. Same settings as generate().\n") +
      kSamplingDoc;
  py::class_<Tokenizer>(m, "Tokenizer", R"doc(
A Hugging Face tokenizer.json tokenizer (byte-level BPE or SentencePiece-style BPE).

    tokenizer = Tokenizer("models/m")     # a model directory, a .bitt file or tokenizer.json
    ids = tokenizer.encode("Hello")       # list[int]
    text = tokenizer.decode(ids)
)doc")
      .def(py::init([](const std::filesystem::path& path) {
             if (!std::filesystem::exists(path))
               throw py::value_error(concat(path.string(), ": no such file or directory"));
             return load_model_tokenizer(path);
           }),
           py::arg("path"), "loads a tokenizer.json, a model directory's or a .bitt file's")
      .def_static(
          "from_json",
          [](const std::string& json_text) {
            return as_value_error([&] { return Tokenizer::from_json_text(json_text, "<text>"); });
          },
          py::arg("json_text"), "a tokenizer from tokenizer.json text")
      .def(
          "encode",
          [](const Tokenizer& self, const std::string& text, bool add_special_tokens) {
            py::gil_scoped_release release;
            return as_value_error([&] { return self.encode(text, add_special_tokens); });
          },
          py::arg("text"), py::arg("add_special_tokens") = false,
          "token ids of `text` (list[int]); add_special_tokens runs the post-processor (BOS)")
      .def(
          "decode",
          [](const Tokenizer& self, const py::object& ids, bool skip_special_tokens) {
            const TokenIds tokens = token_ids(ids, self.vocab_size(), "ids");
            py::gil_scoped_release release;
            return self.decode(tokens.span(), skip_special_tokens);
          },
          py::arg("ids"), py::arg("skip_special_tokens") = false, "text of token ids")
      .def_property_readonly("vocab_size", &Tokenizer::vocab_size)
      .def("__len__", &Tokenizer::vocab_size)
      .def("token_to_id", &Tokenizer::token_to_id, py::arg("token"), "id of a token, or None")
      .def(
          "id_to_token",
          [](const Tokenizer& self, int32_t id) {
            return as_value_error([&] { return self.id_to_token(id); });
          },
          py::arg("id"), "the token string of an id")
      .def_property_readonly("bos_id", &Tokenizer::bos_id)
      .def_property_readonly("eos_id", &Tokenizer::eos_id)
      .def_property_readonly("stop_ids", &Tokenizer::stop_ids)
      .def("is_special", &Tokenizer::is_special, py::arg("id"))
      .def_property_readonly("fingerprint", &Tokenizer::fingerprint)
      .def("__repr__", [](const Tokenizer& self) {
        return concat("Tokenizer(", self.source_name(), ", vocab_size=", self.vocab_size(), ")");
      });

  py::class_<GenerationResult>(m, "GenerationResult",
                               "What generate(..., return_result=True) returns")
      .def_readonly("text", &GenerationResult::text)
      .def_readonly("n_prompt_tokens", &GenerationResult::n_prompt_tokens)
      .def_readonly("n_generated_tokens", &GenerationResult::n_generated_tokens)
      .def_property_readonly(
          "finish_reason",
          [](const GenerationResult& self) {
            return std::string(finish_reason_name(self.finish_reason));
          },
          "'length', 'eos', 'stop' or 'callback'")
      .def_readonly("prompt_seconds", &GenerationResult::prompt_seconds)
      .def_readonly("generate_seconds", &GenerationResult::generate_seconds)
      .def("__repr__", [](const GenerationResult& self) {
        return concat("GenerationResult(n_generated_tokens=", self.n_generated_tokens,
                      ", finish_reason='", finish_reason_name(self.finish_reason), "')");
      });

  py::class_<GenerationStream>(m, "GenerationStream", R"doc(
The iterator of Llama.stream(): yields text pieces as they are generated.
Breaking out of the loop (or close(), or leaving a `with` block) stops generation
after at most one more token. `result` is the GenerationResult once finished.
)doc")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &GenerationStream::next)
      .def("close", &GenerationStream::close, "stops generation and waits for it to end")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__",
           [](GenerationStream& self, const py::args&) {
             self.close();
             return false;
           })
      .def_property_readonly("result", &GenerationStream::result,
                             "GenerationResult once generation has ended, else None");

  py::class_<PyLlama, std::shared_ptr<PyLlama>> llama(m, "Llama", R"doc(
A model with its tokenizer and one TTT memory: text in, text out (the seed's Llama).

    llm = Llama.load_auto("models/m")             # a model directory or a .bitt file
    llm.stream_completion("Hello", 50, 0.8, lambda piece: print(piece, end=""))
    text = llm.generate("Once upon a time", max_tokens=50, temperature=0.0)
    for piece in llm.stream("Once", max_tokens=50):
        print(piece, end="")
    llm.learn("The dragon's name was Ember.")     # absorb text into the memory
    llm.save_state("memory.safetensors"); llm.reset_state(); llm.load_state(...)

The prompt and every generated token are absorbed into the memory, so calls
continue one conversation until reset_state(). The GIL is released while the
engine runs; callbacks are called with it held.
)doc");
  llama
      .def(py::init(&load_llama), py::arg("path"), py::arg("device") = "cpu",
           py::arg("n_gpu_layers") = py::none(), py::arg("n_threads") = 0,
           py::arg("verify") = false, "same as Llama.load_auto")
      .def_static("load_auto", &load_llama, py::arg("path"), py::arg("device") = "cpu",
                  py::arg("n_gpu_layers") = py::none(), py::arg("n_threads") = 0,
                  py::arg("verify") = false,
                  "Loads a model directory (config.json, model.safetensors, tokenizer.json) or a "
                  ".bitt file with its tokenizer. device: 'cpu' or 'cuda'.")
      .def(
          "stream_completion",
          [](PyLlama& self, const std::string& prompt, int max_tokens, float temp,
             const py::object& callback) {
            GenerateOptions options =
                generate_options(max_tokens, temp, 0, 1.0f, 0.0f, 1.0f, 64, 0, py::none(), true);
            return run_generate(self, prompt, options, callback).text;
          },
          py::arg("prompt"), py::arg("max_tokens") = 128, py::arg("temp") = 0.8f,
          py::arg("callback") = py::none(),
          "The seed's API: generates up to max_tokens at temperature `temp`, calling "
          "callback(piece) per piece of text; a callback returning False stops (None or True "
          "continues). Returns the whole generated text.")
      .def(
          "generate",
          [](PyLlama& self, const std::string& prompt, int max_tokens, float temperature, int top_k,
             float top_p, float min_p, float repetition_penalty, int repeat_last_n, uint64_t seed,
             const py::object& stop, bool stop_at_eos, const py::object& callback,
             bool return_result) -> py::object {
            const GenerateOptions options =
                generate_options(max_tokens, temperature, top_k, top_p, min_p, repetition_penalty,
                                 repeat_last_n, seed, stop, stop_at_eos);
            GenerationResult result = run_generate(self, prompt, options, callback);
            if (return_result) return py::cast(std::move(result));
            return py::str(result.text);
          },
          py::arg("prompt"), py::kw_only(), py::arg("max_tokens") = 128,
          py::arg("temperature") = 0.8f, py::arg("top_k") = 0, py::arg("top_p") = 1.0f,
          py::arg("min_p") = 0.0f, py::arg("repetition_penalty") = 1.0f,
          py::arg("repeat_last_n") = 64, py::arg("seed") = 0, py::arg("stop") = py::none(),
          py::arg("stop_at_eos") = true, py::arg("callback") = py::none(),
          py::arg("return_result") = false, generate_doc.c_str())
      .def(
          "stream",
          [](const std::shared_ptr<PyLlama>& self, const std::string& prompt, int max_tokens,
             float temperature, int top_k, float top_p, float min_p, float repetition_penalty,
             int repeat_last_n, uint64_t seed, const py::object& stop, bool stop_at_eos) {
            GenerateOptions options =
                generate_options(max_tokens, temperature, top_k, top_p, min_p, repetition_penalty,
                                 repeat_last_n, seed, stop, stop_at_eos);
            return std::make_unique<GenerationStream>(self, prompt, std::move(options));
          },
          py::arg("prompt"), py::kw_only(), py::arg("max_tokens") = 128,
          py::arg("temperature") = 0.8f, py::arg("top_k") = 0, py::arg("top_p") = 1.0f,
          py::arg("min_p") = 0.0f, py::arg("repetition_penalty") = 1.0f,
          py::arg("repeat_last_n") = 64, py::arg("seed") = 0, py::arg("stop") = py::none(),
          py::arg("stop_at_eos") = true, stream_doc.c_str())
      .def(
          "learn",
          [](PyLlama& self, const std::string& text) {
            self.check_not_streaming();
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mutex);
            return self.llama.learn(text);
          },
          py::arg("text"),
          "absorbs text into the memory without generating; returns its token count")
      .def(
          "reset_state",
          [](PyLlama& self) {
            self.check_not_streaming();
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mutex);
            self.llama.reset_state();
          },
          "forgets the conversation (memory back to zero)")
      .def(
          "save_state",
          [](PyLlama& self, const std::filesystem::path& path) {
            self.check_not_streaming();
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mutex);
            self.llama.save_state(path);
          },
          py::arg("path"), "writes the memory to a state file")
      .def(
          "load_state",
          [](PyLlama& self, const std::filesystem::path& path) {
            self.check_not_streaming();
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mutex);
            self.llama.load_state(path);
          },
          py::arg("path"), "replaces the memory with a state file's; give a prompt next")
      .def_property_readonly(
          "n_tokens",
          [](PyLlama& self) {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mutex);
            return self.llama.n_tokens();
          },
          "tokens the memory has absorbed")
      .def_property_readonly(
          "tokenizer", [](const PyLlama& self) { return self.llama.tokenizer(); },
          "the model's Tokenizer (encode/decode)")
      .def_property_readonly(
          "config", [](const PyLlama& self) { return self.llama.model().config(); },
          "a copy of the model's BitLlamaConfig")
      .def_property_readonly(
          "eos_id", [](const PyLlama& self) { return self.llama.eos_id(); }, "EOS id, or None")
      .def("__repr__", [](const PyLlama& self) {
        return concat("Llama(", self.llama.model().config().shape_string(), ", ",
                      self.llama.model().placement_summary(), ")");
      });
}

}  // namespace bit_ttt::python

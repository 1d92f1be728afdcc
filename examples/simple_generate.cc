// The smallest program on the public API: load a model directory and stream a
// completion (the seeds' Llama::load_auto + stream_completion), then show that
// the TTT memory persists: learn a text, save the memory, load it back.
//
//   simple_generate MODEL_DIR [PROMPT]
#include <bit_ttt/error.h>
#include <bit_ttt/llama.h>

#include <cstdio>
#include <filesystem>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [PROMPT]\n", argv[0]);
    return 2;
  }
  try {
    bit_ttt::Llama llama = bit_ttt::Llama::load_auto(argv[1]);
    const char* prompt = argc > 2 ? argv[2] : "Once upon a time";
    std::printf("%s", prompt);
    llama.stream_completion(prompt, 50, 0.8f, [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;  // return false to stop early
    });
    std::printf("\n");

    const int64_t absorbed = llama.learn("The dragon's name was Ember.");
    const auto memory = std::filesystem::temp_directory_path() / "simple_generate_memory.safetensors";
    llama.save_state(memory);
    llama.reset_state();
    llama.load_state(memory);
    std::printf("learned %lld tokens; memory now holds %lld tokens (saved to %s)\n",
                static_cast<long long>(absorbed), static_cast<long long>(llama.n_tokens()),
                memory.c_str());
  } catch (const bit_ttt::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
  return 0;
}

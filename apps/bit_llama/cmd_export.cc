// bit_llama export: a model directory (or .safetensors, or another .bitt) as one
// memory-mapped .bitt file with packed ternary weights (docs/bitt-format.md).
#include <cstdio>
#include <filesystem>

#include "bit_ttt/error.h"
#include "bit_ttt/model.h"
#include "commands.h"

namespace bit_ttt::cli {

CommandRunner add_export_command(CLI::App& app) {
  struct Options {
    std::string model, out;
    ExportOptions exported;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("export", "write a model as one memory-mapped .bitt file");
  command->add_option("--model,-m", options->model, "model directory, .safetensors or .bitt")
      ->required();
  command->add_option("--out,-o", options->out, "the .bitt file to write")->required();
  command
      ->add_option("--ternary", options->exported.ternary,
                   "BitLinear layout: 2bit (fastest) or 1.6bit (smallest)")
      ->check(CLI::IsMember({"2bit", "1.6bit"}))
      ->capture_default_str();
  command->add_option("--head", options->exported.head, "LM head storage: f32, f16, bf16 or int8")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "int8"}))
      ->capture_default_str();
  command
      ->add_option("--embed", options->exported.embed, "embedding storage: f32, f16, bf16 or int8")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "int8"}))
      ->capture_default_str();

  return [options] {
    export_bitt(options->model, options->out, options->exported);
    const auto bytes = std::filesystem::file_size(options->out);
    const BitLlama model = BitLlama::load(options->out);
    std::fprintf(stderr, "wrote %s: %.2f MB, %.3f bytes/parameter (%s, ternary %s, head %s)\n",
                 options->out.c_str(), static_cast<double>(bytes) / 1e6,
                 static_cast<double>(bytes) / static_cast<double>(model.config().n_parameters()),
                 model.config().shape_string().c_str(), options->exported.ternary.c_str(),
                 options->exported.head.c_str());
    return 0;
  };
}

}  // namespace bit_ttt::cli

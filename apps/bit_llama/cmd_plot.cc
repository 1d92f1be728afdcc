// bit_llama plot: draws the loss curves of a training run (metrics.jsonl) to a
// PNG with matplotlib (Debian python3-matplotlib), run as a child process.
#include <filesystem>

#include "bit_ttt/error.h"
#include "commands.h"
#include "common.h"

namespace bit_ttt::cli {
namespace {

const char kPlotScript[] = R"PY(
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
metrics_path, out_path, title = sys.argv[1], sys.argv[2], sys.argv[3]
steps, loss, val_steps, val_loss = [], [], [], []
for line in open(metrics_path):
    line = line.strip()
    if not line:
        continue
    record = json.loads(line)
    steps.append(record["step"]); loss.append(record["loss"])
    if "val_loss" in record:
        val_steps.append(record["step"]); val_loss.append(record["val_loss"])
if not steps:
    sys.exit(metrics_path + ": no metrics records")
fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
ax.plot(steps, loss, lw=0.8, alpha=0.5, label="train loss (per step)")
window = max(1, len(loss) // 50)
if window > 1:
    smooth = [sum(loss[max(0, i - window + 1):i + 1]) / len(loss[max(0, i - window + 1):i + 1])
              for i in range(len(loss))]
    ax.plot(steps, smooth, lw=1.6, label=f"train loss ({window}-step mean)")
if val_steps:
    ax.plot(val_steps, val_loss, "o-", lw=1.6, ms=3, label="validation loss")
ax.set_xlabel("step"); ax.set_ylabel("cross-entropy (nats/token)")
ax.set_title(title); ax.grid(alpha=0.3); ax.legend()
fig.tight_layout(); fig.savefig(out_path)
print(f"wrote {out_path}: {len(steps)} steps, {len(val_steps)} validations")
)PY";

}  // namespace

CommandRunner add_plot_command(CLI::App& app) {
  struct Options {
    std::string metrics, out, title = "Bit-TTT training";
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("plot", "draw the loss curves of a run to a PNG");
  command
      ->add_option("--metrics", options->metrics,
                   "metrics.jsonl of a run (or the run's output directory)")
      ->required();
  command->add_option("--out,-o", options->out, "output PNG")->required();
  command->add_option("--title", options->title, "plot title");

  return [options] {
    std::filesystem::path metrics = options->metrics;
    if (std::filesystem::is_directory(metrics)) metrics /= "metrics.jsonl";
    if (!std::filesystem::exists(metrics)) fail(metrics.string(), ": no such metrics file");
    run_python_script(kPlotScript, {metrics.string(), options->out, options->title});
    return 0;
  };
}

}  // namespace bit_ttt::cli

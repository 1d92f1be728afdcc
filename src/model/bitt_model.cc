#include "model/bitt_model.h"

#include <cstring>
#include <fstream>

#include "bit_ttt/error.h"
#include "kernels/cpu/dense_kernels.h"

namespace bit_ttt {
namespace {

std::string row_scales_name(const std::string& name) {
  return name + ".row_scales";
}

std::string shape_text(std::span<const int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += concat(i ? ", " : "", shape[i]);
  return text + "]";
}

const BittTensor& get_checked(const BittFile& file, const TensorSpec& spec) {
  const BittTensor& tensor = file.get(spec.name);
  if (tensor.shape != spec.shape)
    fail(file.path().string(), ": tensor '", spec.name, "' has shape ", shape_text(tensor.shape),
         ", expected ", shape_text(spec.shape));
  return tensor;
}

std::optional<DenseDType> dense_dtype_of(BittDType dtype) {
  switch (dtype) {
    case BittDType::f32:
      return DenseDType::f32;
    case BittDType::f16:
      return DenseDType::f16;
    case BittDType::bf16:
      return DenseDType::bf16;
    case BittDType::i8:
      return DenseDType::i8_row;
    default:
      return std::nullopt;
  }
}
BittDType bitt_dtype_of(DenseDType dtype) {
  switch (dtype) {
    case DenseDType::f32:
      return BittDType::f32;
    case DenseDType::f16:
      return BittDType::f16;
    case DenseDType::bf16:
      return BittDType::bf16;
    case DenseDType::i8_row:
      return BittDType::i8;
  }
  return BittDType::f32;
}

DenseMatrixView dense_view(const BittFile& file, const BittTensor& tensor) {
  const std::string what = concat(file.path().string(), ": tensor '", tensor.name, "'");
  const std::optional<DenseDType> dtype = dense_dtype_of(tensor.dtype);
  if (!dtype)
    fail(what, " has dtype ", bitt_dtype_name(tensor.dtype), " (expected f32, f16, bf16 or i8)");
  DenseMatrixView view{*dtype, tensor.shape[0], tensor.shape[1], tensor.bytes.data(), nullptr};
  if (*dtype == DenseDType::i8_row) {
    const BittTensor* scales = file.find(row_scales_name(tensor.name));
    if (!scales || scales->dtype != BittDType::f32 ||
        scales->shape != std::vector<int64_t>{tensor.shape[0]})
      fail(what, " is int8 but '", row_scales_name(tensor.name), "' (f32 [", tensor.shape[0],
           "]) is missing or malformed");
    view.row_scales = reinterpret_cast<const float*>(scales->bytes.data());
  }
  validate_dense_matrix(view, tensor.bytes.size(), what);
  return view;
}

Tensor f32_tensor(const BittFile& file, const TensorSpec& spec) {
  const BittTensor& tensor = get_checked(file, spec);
  if (tensor.dtype != BittDType::f32)
    fail(file.path().string(), ": tensor '", spec.name, "' has dtype ",
         bitt_dtype_name(tensor.dtype), ", expected f32");
  return Tensor(DType::f32, spec.shape, Device::cpu, const_cast<std::byte*>(tensor.bytes.data()),
                file.owner());
}

TernaryWeight ternary_weight(const BittFile& file, const TensorSpec& spec, Backend& backend) {
  const BittTensor& tensor = get_checked(file, spec);
  if (!bitt_ternary_format(tensor.dtype))
    fail(file.path().string(), ": tensor '", spec.name, "' has dtype ",
         bitt_dtype_name(tensor.dtype), ", expected ternary_i2 or ternary_tq1");
  if (!tensor.scale)
    fail(file.path().string(), ": ternary tensor '", spec.name, "' has no scale (β)");
  return backend.upload_ternary(file.ternary_view(spec.name), *tensor.scale, file.owner());
}

TernaryFormat parse_export_ternary(const std::string& name) {
  if (name == "2bit" || name == "i2") return TernaryFormat::i2;
  if (name == "1.6bit" || name == "tq1") return TernaryFormat::tq1;
  fail("unknown ternary layout '", name, "' (valid: 2bit, 1.6bit)");
}

template <typename T>
std::span<const std::byte> as_bytes_of(const T* data, size_t count) {
  return {reinterpret_cast<const std::byte*>(data), count * sizeof(T)};
}

}  // namespace

bool is_bitt_file(const std::filesystem::path& path) {
  if (path.extension() == ".bitt") return true;
  if (!std::filesystem::is_regular_file(path)) return false;
  std::ifstream file(path, std::ios::binary);
  char magic[4] = {};
  file.read(magic, 4);
  return file.gcount() == 4 && std::memcmp(magic, "BITT", 4) == 0;
}

BitLlamaConfig bitt_model_config(const BittFile& file) {
  BitLlamaConfig config = BitLlamaConfig::from_json_text(file.config_json(), file.path().string());
  config.finalize(file.path().string());
  return config;
}

DenseDType bitt_dense_dtype(const BittFile& file, std::string_view name) {
  const BittTensor* tensor = file.find(name);
  return tensor ? dense_dtype_of(tensor->dtype).value_or(DenseDType::f32) : DenseDType::f32;
}

ModelWeights load_bitt_weights(const BittFile& file, const BitLlamaConfig& config,
                               const std::vector<Device>& block_devices) {
  const std::vector<TensorSpec> specs = model_tensor_specs(config);
  BT_CHECK(block_devices.size() == static_cast<size_t>(config.num_layers));
  ModelWeights weights;
  weights.config = config;
  weights.fingerprint = file.fingerprint();
  const Device first_device = block_devices.empty() ? Device::cpu : block_devices.front();
  const Device last_device = block_devices.empty() ? Device::cpu : block_devices.back();
  auto dense = [&](const TensorSpec& spec, Backend& backend) {
    return backend.upload_dense(dense_view(file, get_checked(file, spec)), file.owner());
  };
  size_t next = 0;
  weights.embed_backend = &backend_for(first_device);
  weights.embed = dense(specs[next++], *weights.embed_backend);
  for (int64_t i = 0; i < config.num_layers; ++i) {
    BlockWeights block;
    block.backend = &backend_for(block_devices[static_cast<size_t>(i)]);
    Backend& b = *block.backend;
    block.norm1 = b.upload(f32_tensor(file, specs[next++]));
    block.ttt_down = ternary_weight(file, specs[next++], b);
    block.ttt_up = ternary_weight(file, specs[next++], b);
    block.norm2 = b.upload(f32_tensor(file, specs[next++]));
    block.gate_proj = ternary_weight(file, specs[next++], b);
    block.up_proj = ternary_weight(file, specs[next++], b);
    block.down_proj = ternary_weight(file, specs[next++], b);
    weights.blocks.push_back(std::move(block));
  }
  weights.head_backend = &backend_for(last_device);
  weights.norm_f = weights.head_backend->upload(f32_tensor(file, specs[next++]));
  weights.lm_head = dense(specs[next++], *weights.head_backend);
  return weights;
}

BittContents bitt_contents(const ModelWeights& weights, const ExportOptions& options,
                           std::vector<std::shared_ptr<const void>>& storage) {
  const TernaryFormat ternary_format = parse_export_ternary(options.ternary);
  const DenseDType head_dtype = parse_dense_dtype(options.head);
  const DenseDType embed_dtype = parse_dense_dtype(options.embed);
  BittContents contents;
  contents.config_json = weights.config.to_json_text();
  contents.fingerprint = weights.fingerprint;
  contents.metadata = {{"writer", "bit_ttt export"},
                       {"ternary", std::string(ternary_format_name(ternary_format))},
                       {"head", std::string(dense_dtype_name(head_dtype))},
                       {"embed", std::string(dense_dtype_name(embed_dtype))}};

  auto add_dense = [&](const std::string& name, const DenseWeight& weight, DenseDType dtype) {
    const DenseMatrixView& source = weight.matrix;
    DenseMatrixView target = source;
    if (source.dtype != dtype) {  // convert through float rows
      std::vector<float> values(static_cast<size_t>(source.n_out * source.n_in));
      for (int64_t row = 0; row < source.n_out; ++row)
        cpu::dense_row_to_f32(source, row, values.data() + row * source.n_in);
      auto converted = std::make_shared<DenseMatrix>(
          convert_dense(dtype, values.data(), source.n_out, source.n_in));
      target = converted->view();
      storage.push_back(converted);
    }
    const size_t count = static_cast<size_t>(target.n_out * target.n_in);
    contents.tensors.push_back(
        {name,
         bitt_dtype_of(dtype),
         {target.n_out, target.n_in},
         std::nullopt,
         {static_cast<const std::byte*>(target.data), count * dense_element_bytes(dtype)}});
    if (dtype == DenseDType::i8_row)
      contents.tensors.push_back(
          {row_scales_name(name),
           BittDType::f32,
           {target.n_out},
           std::nullopt,
           as_bytes_of(target.row_scales, static_cast<size_t>(target.n_out))});
  };
  auto add_f32 = [&](const std::string& name, const Tensor& tensor) {
    contents.tensors.push_back(
        {name, BittDType::f32, tensor.shape(), std::nullopt,
         as_bytes_of(tensor.data<float>(), static_cast<size_t>(tensor.numel()))});
  };
  auto add_ternary = [&](const std::string& name, const TernaryWeight& weight) {
    TernaryMatrixView view = weight.packed;
    if (view.format != ternary_format) {
      std::vector<int8_t> codes(static_cast<size_t>(view.n_out * view.n_in));
      unpack_ternary(view, codes.data());
      auto repacked = std::make_shared<PackedTernary>(
          pack_ternary(ternary_format, codes.data(), view.n_out, view.n_in, weight.beta));
      view = repacked->view();
      storage.push_back(repacked);
    }
    const BittDType dtype =
        ternary_format == TernaryFormat::i2 ? BittDType::ternary_i2 : BittDType::ternary_tq1;
    contents.tensors.push_back(
        {name,
         dtype,
         {view.n_out, view.n_in},
         weight.beta,
         as_bytes_of(view.data, static_cast<size_t>(view.n_out * view.row_stride_bytes))});
  };

  const std::vector<TensorSpec> specs = model_tensor_specs(weights.config);
  size_t next = 0;
  add_dense(specs[next++].name, weights.embed, embed_dtype);
  for (const BlockWeights& block : weights.blocks) {
    BT_CHECK(block.backend->device() == Device::cpu);
    add_f32(specs[next++].name, block.norm1);
    add_ternary(specs[next++].name, block.ttt_down);
    add_ternary(specs[next++].name, block.ttt_up);
    add_f32(specs[next++].name, block.norm2);
    add_ternary(specs[next++].name, block.gate_proj);
    add_ternary(specs[next++].name, block.up_proj);
    add_ternary(specs[next++].name, block.down_proj);
  }
  add_f32(specs[next++].name, weights.norm_f);
  add_dense(specs[next++].name, weights.lm_head, head_dtype);
  return contents;
}

}  // namespace bit_ttt

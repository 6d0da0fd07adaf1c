// model.cc — load_model: the one loader of a model family (Llama).
#include "model/model.h"

#include "model/llama.h"

namespace maas {

StatusOr<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<LlamaModel> m, LlamaModel::load(path, options));
  return std::unique_ptr<Model>(std::move(m));
}

StatusOr<std::unique_ptr<Model>> load_model(std::unique_ptr<GgufFile> file, const LoadOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<LlamaModel> m, LlamaModel::from_file(std::move(file), options));
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace maas

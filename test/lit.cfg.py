# lit configuration for tyboxc: .tir and .test files run their RUN lines in a
# shell, with the build's tools and LLVM's FileCheck/not/count on PATH.
import os

import lit.formats

config.name = "tyboxc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".tir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tyboxc_obj_root, "test")
# Folders that hold inputs or whole-suite drivers, not lit tests.
config.excludes = ["Inputs", "conformance", "models", "e2e", "runtime", "shape", "ir"]

# Longest first: %tyboxc must not eat the start of %tyboxc-opt.
config.substitutions.append(("%tyboxc-opt", os.path.join(config.tyboxc_bin, "tyboxc-opt")))
config.substitutions.append(("%tyboxc", os.path.join(config.tyboxc_bin, "tyboxc")))
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, config.tyboxc_bin, config.environment.get("PATH", os.environ.get("PATH", ""))])
for tool in ("gcc", "clang"):
    if any(os.access(os.path.join(d, tool), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep)):
        config.available_features.add(tool)

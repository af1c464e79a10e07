# lit configuration for custom-opt's tests: .tir files run their RUN lines in
# a shell, with custom-opt and LLVM's FileCheck/not on PATH.
import os

import lit.formats

config.name = "custom-pass"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".tir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.custom_opt_obj_root, "test")

config.substitutions.append(("%custom-opt", os.path.join(config.custom_opt_bin, "custom-opt")))
config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, config.custom_opt_bin, config.environment.get("PATH", os.environ.get("PATH", ""))])

// The CLI as a user runs it: exit codes, messages, the one JSON object, determinism.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result run_cli(const std::string& args) {
  static int counter = 0;
  const std::string err_path = ::testing::TempDir() + "cli_stderr_" + std::to_string(getpid()) +
                               "_" + std::to_string(++counter) + ".txt";
  const std::string cmd = std::string(METAADAMW_CLI) + " " + args + " 2>" + err_path;
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_path);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  std::remove(err_path.c_str());
  return r;
}

// Starts `metaadamw ARGS` in the background (stderr discarded); its pid, -1 if fork failed.
pid_t spawn_cli(const std::string& args) {
  const std::string cmd = std::string("exec ") + METAADAMW_CLI + " " + args + " 2>/dev/null";
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

const char* kTiny = "train --task synthetic --preset tiny --device cpu --threads 1 --steps 40";

// The value of a top-level "key": value pair, as printed.
std::string field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\": ([^,\\n]+)"))) return m[1];
  return "";
}

TEST(Cli, VersionAndHelp) {
  auto v = run_cli("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("metaadamw 0."), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("LibTorch"), std::string::npos);
  // Which variant of the fused CPU kernels runs, named (cpu_isa_test checks the choice).
  EXPECT_TRUE(std::regex_search(v.out, std::regex("CPU kernels: (avx512f|avx2\\+fma|baseline)")))
      << v.out;
  auto h = run_cli("--help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("metaadamw train"), std::string::npos);
}

TEST(Cli, UnknownKeyExitsWithCode2AndListsValidKeys) {
  auto r = run_cli(std::string(kTiny) + " --set learning_rate=0.1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown key 'learning_rate'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("valid keys: task, preset, optimizer"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

// adamw_kernel=aten needs LibTorch >= 2.4: refused with exit 2 and one line below it.
TEST(Cli, AtenAdamWKernelRefusedBelowLibTorch24) {
  std::smatch m;
  const auto v = run_cli("--version").out;
  ASSERT_TRUE(std::regex_search(v, m, std::regex("LibTorch (\\d+)\\.(\\d+)"))) << v;
  const int major = std::stoi(m[1]), minor = std::stoi(m[2]);
  if (major > 2 || (major == 2 && minor >= 4)) GTEST_SKIP() << "LibTorch >= 2.4 has the kernel";
  auto r = run_cli(std::string(kTiny) + " --set adamw_kernel=aten");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("adamw_kernel=aten: AdamW kernel 'aten' (at::_fused_adamw_) needs "
                       "LibTorch >= 2.4"),
            std::string::npos)
      << r.err;
}

TEST(Cli, MisspelledKeySuggestsTheNearestOne) {
  auto r = run_cli(std::string(kTiny) + " --set stpes=10");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown key 'stpes' (did you mean 'steps'?)"), std::string::npos) << r.err;
  r = run_cli(std::string(kTiny) + " --set optimzer=adamw");
  EXPECT_NE(r.err.find("did you mean 'optimizer'?"), std::string::npos) << r.err;
  r = run_cli(std::string(kTiny) + " --set Meta_LR=0.1");
  EXPECT_NE(r.err.find("keys are lower-case: did you mean 'meta_lr'?"), std::string::npos) << r.err;
}

// Issue step 9, findings 1, 2, 5 and 7: configs that aborted, crashed, hung or read
// without end, and the documented flags that were rejected. Each is exit 2 with a message
// naming the file and the problem.
TEST(Cli, BadConfigFilesAreRefusedWithAMessage) {
  const std::string dir = ::testing::TempDir() + "maw_bad_configs_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  struct Case {
    std::string path, fragment;
  };
  std::string deep(100000, '[');
  deep = "{\"a\": " + deep + std::string(100000, ']') + "}";
  const std::string fifo = dir + "/fifo.json";
  ::mkfifo(fifo.c_str(), 0600);
  const std::vector<Case> cases = {
      {write("huge.json", "{\"lr\": 1e999}"), "out of range"},
      {write("neg.json", "{\"steps\": -1e999}"), "out of range"},
      {write("deep.json", deep), "nested deeper than"},
      {dir, "is a directory"},
      {fifo, "a FIFO"},
      {"/dev/zero", "not a regular file"},
      {dir + "/missing.json", "no such file"},
  };
  for (const auto& c : cases) {
    auto r = run_cli(std::string(kTiny) + " --config " + c.path);
    EXPECT_EQ(r.code, 2) << c.path << ": " << r.err;
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << c.path << ": " << r.err;
    EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << r.err;
  }
  auto r = run_cli("inspect " + fifo);  // would block in the open before
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("FIFO"), std::string::npos) << r.err;
  // --resume and --modulator are flags, as --help says (here: files that do not exist).
  for (const char* flag : {"--resume", "--modulator"}) {
    r = run_cli(std::string(kTiny) + " --optimizer metaadamw " + flag + " " + dir + "/none.pt");
    EXPECT_NE(r.code, 0);
    EXPECT_EQ(r.err.find("unknown option"), std::string::npos) << flag << ": " << r.err;
    if (std::string(flag) == "--modulator") {
      EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(Cli, BadValueExitsWithCode2AndNamesKeyAndAllowed) {
  auto r = run_cli(std::string(kTiny) + " --set weight_decay=-0.5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("invalid value '-0.5' for key 'weight_decay': allowed >= 0"),
            std::string::npos)
      << r.err;
  r = run_cli("train --optimizer sgd");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("allowed adamw | torch_adamw"), std::string::npos) << r.err;
  r = run_cli("train --frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown option '--frobnicate'"), std::string::npos) << r.err;
  r = run_cli("train --steps");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("needs a value"), std::string::npos) << r.err;
}

TEST(Cli, ConfigFileErrorsNameTheFile) {
  const std::string path =
      ::testing::TempDir() + "bad_config_" + std::to_string(getpid()) + ".json";
  std::ofstream(path) << R"({"lr": 0.01, "momentum": 0.9})";
  auto r = run_cli(std::string(kTiny) + " --config " + path);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(path + ": unknown key 'momentum'"), std::string::npos) << r.err;
  r = run_cli(std::string(kTiny) + " --config /nonexistent.json");
  EXPECT_EQ(r.code, 2);
}

TEST(Cli, JsonPrintsExactlyOneObjectWithTheSummaryFields) {
  auto r = run_cli(std::string(kTiny) + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  // One object: starts with '{', ends with '}' and a newline, nothing else on stdout.
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.front(), '{');
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "}\n");
  int depth = 0, closed_at_top = 0;  // the outer object closes once, at the very end
  for (char ch : r.out) {
    depth += ch == '{' ? 1 : ch == '}' ? -1 : 0;
    closed_at_top += ch == '}' && depth == 0;
  }
  EXPECT_EQ(closed_at_top, 1);
  EXPECT_EQ(field(r.out, "eval_extras"), "{}");
  for (const char* k :
       {"task", "preset", "optimizer", "seed", "steps", "final_train_loss", "eval_loss",
        "eval_metric", "metric_name", "wall_time_s", "mean_step_ms", "meta_updates", "status"})
    EXPECT_FALSE(field(r.out, k).empty()) << "missing " << k << " in " << r.out;
  EXPECT_EQ(field(r.out, "task"), "\"synthetic\"");
  EXPECT_EQ(field(r.out, "steps"), "40");
  EXPECT_EQ(field(r.out, "status"), "\"completed\"");
  EXPECT_EQ(field(r.out, "meta_updates"), "0");
  // 17 significant digits: the mantissa without sign, point and leading zeros.
  std::string mantissa = field(r.out, "final_train_loss");
  mantissa = mantissa.substr(0, mantissa.find('e'));
  mantissa.erase(std::remove(mantissa.begin(), mantissa.end(), '.'), mantissa.end());
  mantissa.erase(0, mantissa.find_first_not_of("-0"));
  EXPECT_EQ(mantissa.size(), 17u) << field(r.out, "final_train_loss");
  // Progress went to stderr, not into the JSON.
  EXPECT_NE(r.err.find("step 40/40"), std::string::npos) << r.err;
}

TEST(Cli, SameSeedSameNumbersDifferentSeedDifferentNumbers) {
  auto a = run_cli(std::string(kTiny) + " --seed 3 --json --quiet");
  auto b = run_cli(std::string(kTiny) + " --seed 3 --json --quiet");
  auto c = run_cli(std::string(kTiny) + " --seed 4 --json --quiet");
  ASSERT_EQ(a.code, 0);
  EXPECT_EQ(field(a.out, "final_train_loss"), field(b.out, "final_train_loss"));
  EXPECT_EQ(field(a.out, "eval_loss"), field(b.out, "eval_loss"));
  EXPECT_NE(field(a.out, "final_train_loss"), field(c.out, "final_train_loss"));
  EXPECT_TRUE(a.err.empty()) << "--quiet printed: " << a.err;
}

// The learning design's identity start (docs/MODULATOR.md): until its first meta-update
// MetaAdamW's run is AdamW's to the bit — the issue's command at 1 step, and 30 steps with
// K = 100; with modulator_design=paper (a Xavier head: α ≠ 1) it is not.
TEST(Cli, MetaAdamWStartsAsExactlyAdamW) {
  for (const char* steps : {"1", "30"}) {
    const std::string base =
        std::string("train --task synthetic --steps ") + steps + " --seed 4 --json --quiet";
    auto a = run_cli(base + " --optimizer adamw");
    auto m = run_cli(base + " --optimizer metaadamw");
    ASSERT_EQ(a.code, 0) << a.err;
    ASSERT_EQ(m.code, 0) << m.err;
    EXPECT_EQ(field(a.out, "final_train_loss"), field(m.out, "final_train_loss")) << steps;
    EXPECT_EQ(field(a.out, "eval_loss"), field(m.out, "eval_loss")) << steps;
  }
  const std::string base = "train --task synthetic --steps 30 --seed 4 --json --quiet";
  auto a = run_cli(base + " --optimizer adamw");
  auto p = run_cli(base + " --optimizer metaadamw --set modulator_design=paper");
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_NE(field(a.out, "eval_loss"), field(p.out, "eval_loss"));
}

TEST(Cli, DivergenceExitsWithCode3AndStatusDiverged) {
  auto r = run_cli(std::string(kTiny) + " --set lr=1e30 --json");
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(field(r.out, "status"), "\"diverged\"");
  EXPECT_NE(r.err.find("training diverged"), std::string::npos) << r.err;
}

TEST(Cli, CompareRunsEachOptimizerOnTheSameSeed) {
  auto r = run_cli(
      "compare --task synthetic --preset tiny --device cpu --threads 1 --steps 30 --json "
      "--optimizers adamw,torch_adamw");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"optimizer\": \"adamw\""), std::string::npos);
  EXPECT_NE(r.out.find("\"optimizer\": \"torch_adamw\""), std::string::npos);
  // Our AdamW is bitwise LibTorch's: the two runs print the same losses.
  std::smatch m;
  std::string s = r.out;
  std::vector<std::string> losses;
  const std::regex re("\"final_train_loss\": ([^,\\n]+)");
  for (std::sregex_iterator it(s.begin(), s.end(), re), end; it != end; ++it)
    losses.push_back((*it)[1]);
  ASSERT_EQ(losses.size(), 2u);
  EXPECT_EQ(losses[0], losses[1]);
  EXPECT_NE(r.err.find("optimizer"), std::string::npos);  // the table
}

TEST(Cli, MetaAdamWCountsItsMetaUpdatesAndTakesEveryOptionThroughSet) {
  auto r = run_cli(std::string(kTiny) +
                   " --optimizer metaadamw --set meta_update_freq=10 --set features=basic_plus"
                   " --set huw_priorities=5,2,1 --set attn_layers=1 --json --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(field(r.out, "optimizer"), "\"metaadamw\"");
  EXPECT_EQ(field(r.out, "meta_updates"), "4");  // 40 steps, K = 10
  r = run_cli(std::string(kTiny) + " --optimizer metaadamw --set alpha_range=2.5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'alpha_range': allowed in [0, 2)"), std::string::npos) << r.err;
  r = run_cli(std::string(kTiny) + " --optimizer metaadamw --set huw_priorities=1,2");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("huw_priorities"), std::string::npos) << r.err;
  r = run_cli(std::string(kTiny) + " --optimizer metaadamw --set feature_dim=3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'feature_dim'"), std::string::npos) << r.err;
}

TEST(Cli, CompareOverSeedsReportsStatisticsAndTimeRatios) {
  auto r = run_cli(
      "compare --task synthetic --preset tiny --threads 1 --steps 40 --seeds 3 --json "
      "--set meta_update_freq=10 --set eval_every=10");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* key :
       {"\"task\"", "\"preset\"", "\"seeds\": [", "\"adamw\": {", "\"metaadamw\": {", "\"p_value\"",
        "\"time_ratio\"", "\"step_time_ratio\"", "\"time_to_target\"", "\"naive\""})
    EXPECT_NE(r.out.find(key), std::string::npos) << key << "\n" << r.out;
  EXPECT_NE(r.out.find("\"seeds\": [\n    0,\n    1,\n    2\n  ]"), std::string::npos) << r.out;
  const std::string p = field(r.out, "p_value");
  ASSERT_NE(p, "null");
  EXPECT_GE(std::stod(p), 0.0);
  EXPECT_LE(std::stod(p), 1.0);
  EXPECT_GT(std::stod(field(r.out, "time_ratio")), 0.0);
  // The table on stderr: mean ± std, the test and the ratios.
  EXPECT_NE(r.err.find("paired t-test"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" ± "), std::string::npos);
  EXPECT_NE(r.err.find("time ratio metaadamw/adamw"), std::string::npos);
  EXPECT_NE(r.err.find("time to adamw's median best"), std::string::npos);
  // The signed-rank test and the effect with its interval, consistent with the t-test.
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["wilcoxon"]["n"].get<int>() <= 3, true);
  EXPECT_EQ(j["wilcoxon"]["exact"], true);
  EXPECT_DOUBLE_EQ(j["effect"]["mean_diff"].get<double>(), j["mean_diff"].get<double>());
  if (!j["effect"]["ci95"][0].is_null()) {
    EXPECT_LE(j["effect"]["ci95"][0].get<double>(), j["mean_diff"].get<double>());
    EXPECT_GE(j["effect"]["ci95"][1].get<double>(), j["mean_diff"].get<double>());
  }
  EXPECT_NE(r.err.find("Wilcoxon signed-rank: W+ = "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("95% CI ["), std::string::npos) << r.err;
}

TEST(Cli, SweepTriesEveryGridPointAndNamesTheBestPerOptimizer) {
  auto r = run_cli(
      "sweep --task synthetic --preset tiny --threads 1 --steps 30 --seeds 2 --json "
      "--grid lr=1e-4,3e-3 --grid weight_decay=0,0.1 --optimizers adamw");
  ASSERT_EQ(r.code, 0) << r.err;
  size_t points = 0;
  for (size_t at = r.out.find("\"optimizer\": \"adamw\""); at != std::string::npos;
       at = r.out.find("\"optimizer\": \"adamw\"", at + 1))
    ++points;
  EXPECT_EQ(points, 4u) << r.out;
  // lr 3e-3 learns far more in 30 steps than 1e-4.
  const auto best = r.out.find("\"best\": {\n    \"adamw\"");
  ASSERT_NE(best, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"lr\": \"3e-3\"", best), std::string::npos) << r.out;
  r = run_cli("sweep --task synthetic --preset tiny --grid lr=1e-3,-1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'lr'"), std::string::npos) << r.err;
  r = run_cli("sweep --task synthetic --preset tiny");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--grid"), std::string::npos) << r.err;
}

TEST(Cli, DataListShowsEachDatasetWithSourcePlaceAndPresence) {
  const std::string dir = ::testing::TempDir() + "empty_data_" + std::to_string(getpid());
  auto r = run_cli("data list --data-dir " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("data dir: " + dir), std::string::npos) << r.out;
  for (const char* name : {"fashion-mnist", "sotu", "bible", "sentiment", "seattle-weather"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  EXPECT_NE(r.out.find("npm: sentiment@5.0.2"), std::string::npos);
  // npm datasets live under the data dir: absent from an empty one.
  EXPECT_NE(r.out.find(dir + "/sentiment/package/test/fixtures"), std::string::npos) << r.out;
  r = run_cli("data fetch no-such-dataset --data-dir " + dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown dataset 'no-such-dataset'; datasets: fashion-mnist"),
            std::string::npos)
      << r.err;
  r = run_cli("data frobnicate");
  EXPECT_EQ(r.code, 2);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
size_t lines(const std::string& path) {
  const std::string s = slurp(path);
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}
std::string first_line(const std::string& path) {
  const std::string s = slurp(path);
  return s.substr(0, s.find('\n'));
}
std::string tmp(const std::string& name) {
  return ::testing::TempDir() + "cli_" + std::to_string(getpid()) + "_" + name;
}

TEST(Cli, InspectAndExportALog) {
  const std::string log = tmp("run.h5"), dir = tmp("csv");
  auto r = run_cli(std::string(kTiny) + " --optimizer metaadamw --log " + log +
                   " --set snapshot_every=2 --set attention_every=10 --set meta_update_freq=10");
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli("inspect " + log);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s :
       {"schema v5", "synthetic · tiny · metaadamw · seed 0", "status     completed",
        "40 of 40 steps", "snapshots/features", "attention/probs", "groups "})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  r = run_cli("inspect --json " + log);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["steps_recorded"], 40);
  const size_t G = j["groups"].size();
  ASSERT_GT(G, 0u);
  size_t F = 0;
  for (const auto& s : j["series"])
    if (s["path"] == "snapshots/features") F = s["shape"][2];
  ASSERT_GT(F, 0u);

  r = run_cli("export " + log + " --csv " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(first_line(dir + "/steps.csv"),
            "step,comm_ms,epoch,forward_backward_ms,grad_norm,loss,lr,meta_ms,optimizer_ms,"
            "slowest_rank_ms,wall_time_s");
  EXPECT_EQ(lines(dir + "/steps.csv"), 41u);
  EXPECT_EQ(first_line(dir + "/snapshots_features.csv"), "step,group,feature,value");
  EXPECT_EQ(lines(dir + "/snapshots_features.csv"), 1 + 20 * G * F);  // long: full resolution
  EXPECT_EQ(first_line(dir + "/snapshots_factors.csv"), "step,group,factor,value");
  EXPECT_NE(slurp(dir + "/snapshots_factors.csv").find(",alpha,"), std::string::npos);
  EXPECT_EQ(first_line(dir + "/attention_probs.csv"),
            "step,layer,head,query_group,key_group,value");
  EXPECT_EQ(first_line(dir + "/groups.csv"), "index,name,size,members,shapes");
  EXPECT_EQ(lines(dir + "/groups.csv"), 1 + G);
  EXPECT_EQ(first_line(dir + "/events.csv"), "step,kind,message");
  EXPECT_EQ(first_line(dir + "/meta_huw_s.csv"), "step,term,value");
  EXPECT_EQ(lines(dir + "/meta.csv"), 1u + 4u);  // 4 meta-updates in 40 steps

  // A log of the previous schema version (committed, tests/corpus/log) still inspects and
  // exports: what it lacks (steps/grad_norm) is simply not there.
  const std::string v2 =
      std::string(METAADAMW_SOURCE_DIR) + "/tests/corpus/log/v2-metaadamw-tiny.h5";
  r = run_cli("inspect " + v2);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"schema v2", "synthetic · tiny · metaadamw · seed 0", "40 of 40 steps"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  EXPECT_EQ(r.out.find("steps/grad_norm"), std::string::npos) << r.out;
  r = run_cli("export " + v2 + " --csv " + tmp("csv-v2"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(first_line(tmp("csv-v2") + "/steps.csv"),
            "step,epoch,forward_backward_ms,loss,lr,meta_ms,optimizer_ms,wall_time_s");
}

// `trajectory`: the joint PCA of two optimizers' full snapshots (one seed: one basis); a log
// without them, logs of two seeds, and a run whose snapshots would not fit are refused.
TEST(Cli, TrajectoryPcaOfAComparisonAndItsRefusals) {
  const std::string a = tmp("traj-adamw.h5"), m = tmp("traj-meta.h5"), other = tmp("traj-s1.h5");
  const std::string full = " --set trajectory_full_every=10 --set meta_update_freq=10";
  ASSERT_EQ(run_cli(std::string(kTiny) + " --optimizer adamw --log " + a + full).code, 0);
  ASSERT_EQ(run_cli(std::string(kTiny) + " --optimizer metaadamw --log " + m + full).code, 0);
  auto r = run_cli("trajectory --json " + a + " " + m);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["explained_variance"].size(), 2u);
  const double v1 = j["explained_variance"][0], v2 = j["explained_variance"][1];
  EXPECT_GT(v1, 0.5);  // a path from the origin: mostly one direction
  EXPECT_LE(v1 + v2, 1.0 + 1e-9);
  EXPECT_GE(v2, 0.0);
  ASSERT_EQ(j["runs"].size(), 2u);
  for (const auto& run : j["runs"]) {
    EXPECT_EQ(run["steps"], nlohmann::json::parse("[0, 10, 20, 30, 40]"));
    EXPECT_EQ(run["pc1"].size(), 5u);
    EXPECT_EQ(run["pc2"].size(), 5u);
  }
  // Both runs start at θ_0: one point in the joint basis.
  EXPECT_NEAR(j["runs"][0]["pc1"][0].get<double>(), j["runs"][1]["pc1"][0].get<double>(), 1e-6);
  r = run_cli("trajectory " + a + " " + m);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("PC1"), std::string::npos) << r.out;

  const std::string plain = tmp("traj-plain.h5");
  ASSERT_EQ(run_cli(std::string(kTiny) + " --log " + plain).code, 0);
  r = run_cli("trajectory " + plain);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("trajectory_full_every"), std::string::npos) << r.err;
  ASSERT_EQ(run_cli(std::string(kTiny) + " --seed 1 --log " + other + full).code, 0);
  r = run_cli("trajectory " + a + " " + other);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("another initialization"), std::string::npos) << r.err;
  r = run_cli(
      "train --task synthetic --preset tiny --threads 1 --steps 100000000"
      " --set trajectory_full_every=1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("over the 256 MiB limit"), std::string::npos) << r.err;
}

// The probes after a comparison: a landscape computed, stored and read back; the line
// between the two runs' final parameters; what cannot be probed refused with a message.
TEST(Cli, LandscapeAndInterpolationAfterAComparison) {
  const std::string a = tmp("probe-adamw.h5"), m = tmp("probe-meta.h5");
  const std::string set = " --set meta_update_freq=10 --set snapshot_every=10";
  ASSERT_EQ(run_cli(std::string(kTiny) + " --optimizer adamw --log " + a + set).code, 0);
  ASSERT_EQ(run_cli(std::string(kTiny) + " --optimizer metaadamw --log " + m + set).code, 0);
  auto r = run_cli("landscape --json --grid 3 --threads 1 " + m);
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["grid"], 3);
  EXPECT_EQ(j["cached"], false);
  ASSERT_EQ(j["loss"].size(), 3u);
  EXPECT_EQ(j["center"], j["anchor"]);
  const double centre = j["loss"][1][1];
  EXPECT_GT(j["half_width"].get<double>(), 0.0);
  r = run_cli("landscape --json --grid 3 " + m);  // the same request: from the log
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["cached"], true);
  r = run_cli("landscape --grid 3 --center 0,0 --range 0.5 " + m);  // around the start
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("stored in the log"), std::string::npos) << r.out;

  r = run_cli("interpolate --json --points 5 " + a + " " + m);
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["alpha"].size(), 5u);
  EXPECT_NEAR(j["loss"][3].get<double>(), centre, 1e-5 * std::abs(centre));  // a = 1: θ_m
  r = run_cli("inspect --json " + a);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("interpolation/loss"), std::string::npos);

  for (const char* bad : {"--grid 1", "--center 1", "--range -1", "--points 3"}) {
    r = run_cli(std::string("landscape ") + bad + " " + m);
    EXPECT_EQ(r.code, 2) << bad;
  }
  EXPECT_EQ(run_cli("interpolate " + a).code, 2);
  const std::string bare = tmp("probe-bare.h5");
  ASSERT_EQ(run_cli(std::string(kTiny) + " --set keep_final_parameters=false --log " + bare).code,
            0);
  r = run_cli("landscape " + bare);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no final parameters"), std::string::npos) << r.err;
  r = run_cli("interpolate " + a + " " + tmp("missing.h5"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
}

// Data-parallel training (issue step 15): N processes over c10d Gloo, each a shard of every
// global batch, the gradients averaged — the same run as one process.
double final_loss(const Result& r) {
  return nlohmann::json::parse(r.out)["final_train_loss"].get<double>();
}

// This build's LibTorch has c10d with Gloo (--version says so).
bool data_parallel_available() {
  return run_cli("--version").out.find("data-parallel: c10d Gloo") != std::string::npos;
}
#define SKIP_WITHOUT_DATA_PARALLEL() \
  if (!data_parallel_available()) GTEST_SKIP() << "no c10d Gloo in this build"

TEST(Cli, DataParallelOverTwoProcessesEqualsOne) {
  SKIP_WITHOUT_DATA_PARALLEL();
  for (const char* opt : {"adamw", "metaadamw", "metaadamw --set meta_hessian=exact"}) {
    const std::string run = std::string("train --task synthetic --optimizer ") + opt +
                            " --steps 60 --seed 3 --set meta_update_freq=10 --threads 1 --json";
    const auto one = run_cli(run + " --nproc 1");
    const auto two = run_cli(run + " --nproc 2 --set dist_check_every=10");
    ASSERT_EQ(one.code, 0) << one.err;
    ASSERT_EQ(two.code, 0) << two.err;
    const double a = final_loss(one), b = final_loss(two);
    EXPECT_NEAR(b, a, 1e-4 * std::abs(a)) << opt;
    EXPECT_EQ(two.out.find("final_train_loss"), two.out.rfind("final_train_loss"))
        << "one JSON object (rank 0's)";
  }
  // Rank 0 logs, with the world in its attributes and the communication time per step.
  const std::string log = tmp("dp.h5");
  auto r = run_cli(std::string(kTiny) + " --nproc 2 --log " + log);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli("inspect --json " + log);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["attributes"]["world_size"], "2");
  EXPECT_EQ(j["attributes"]["dist_backend"], "gloo");
  EXPECT_EQ(j["steps_recorded"], 40);
  r = run_cli("export " + log + " --csv " + tmp("dp_csv"));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string steps = slurp(tmp("dp_csv") + "/steps.csv");
  EXPECT_NE(steps.find("comm_ms"), std::string::npos);
}

// A CSV's numeric columns by header name (export --csv).
std::map<std::string, std::vector<double>> csv_columns(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> names;
  std::map<std::string, std::vector<double>> cols;
  if (!std::getline(in, line)) return cols;
  for (std::stringstream ss(line); std::getline(ss, line, ',');) names.push_back(line);
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    for (size_t k = 0; k < names.size() && std::getline(ss, cell, ','); ++k) {
      char* end = nullptr;
      const double v = std::strtod(cell.c_str(), &end);
      if (end != cell.c_str()) cols[names[k]].push_back(v);
    }
  }
  return cols;
}

// The meta-update data-parallel: each rank its shard of b2 and bv, g′ and the meta-gradient
// summed over the ranks — every meta-update's terms and meta-gradient (logged per block)
// equal one process's on the whole batches, for both meta-Hessian algorithms (float64: the
// finite difference divides rounding by its step).
TEST(Cli, DataParallelMetaUpdatesEqualOneProcessOnTheWholeBatches) {
  SKIP_WITHOUT_DATA_PARALLEL();
  for (const char* hessian : {"finite_difference", "exact"}) {
    std::map<std::string, std::vector<double>> meta[2], grads[2];
    for (int n : {1, 2}) {
      const std::string log = tmp(std::string("dp_meta_") + hessian + std::to_string(n) + ".h5");
      const std::string dir = log + ".csv";
      auto r = run_cli(std::string("train --task synthetic --optimizer metaadamw --steps 30 ") +
                       "--seed 5 --threads 1 --set meta_update_freq=5 --set dtype=float64 " +
                       "--set meta_hessian=" + hessian + " --nproc " + std::to_string(n) +
                       " --set dist_check_every=1 --log " + log);
      ASSERT_EQ(r.code, 0) << r.err;
      r = run_cli("export " + log + " --csv " + dir);
      ASSERT_EQ(r.code, 0) << r.err;
      meta[n - 1] = csv_columns(dir + "/meta.csv");
      grads[n - 1] = csv_columns(dir + "/meta_grad_norm.csv");
    }
    for (const char* term : {"l_grad", "l_dec", "l_gap", "total"}) {
      const auto &a = meta[0][term], &b = meta[1][term];
      ASSERT_EQ(a.size(), 6u) << hessian << " " << term;
      ASSERT_EQ(b.size(), a.size()) << term;
      for (size_t i = 0; i < a.size(); ++i)
        EXPECT_NEAR(b[i], a[i], 1e-9 + 1e-7 * std::abs(a[i])) << hessian << " " << term << " " << i;
    }
    const auto &a = grads[0]["value"], &b = grads[1]["value"];
    ASSERT_FALSE(a.empty());
    ASSERT_EQ(b.size(), a.size());
    double largest = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::isnan(a[i])) continue;
      largest = std::max(largest, std::abs(a[i]));
      EXPECT_NEAR(b[i], a[i], 1e-12 + 1e-6 * std::abs(a[i])) << hessian << " block row " << i;
    }
    EXPECT_GT(largest, 0.0) << "the meta-gradient was logged";
  }
}

// The image task: BatchNorm's batch statistics are each rank's own (as PyTorch's DDP by
// default), so two ranks train a slightly different model than one; the ranks agree. With
// dist_sync_batchnorm they are the global batch's: the same run as one process.
TEST(Cli, DataParallelImageRanksStayInLockstep) {
  SKIP_WITHOUT_DATA_PARALLEL();
  const std::string run =
      "train --task image --preset tiny --optimizer metaadamw --steps 20 --seed 3 --set "
      "meta_update_freq=10 --threads 1 --json";
  const auto one = run_cli(run + " --nproc 1");
  if (one.code == 1 && one.err.find("data fetch") != std::string::npos) GTEST_SKIP() << one.err;
  ASSERT_EQ(one.code, 0) << one.err;
  const auto two = run_cli(run + " --nproc 2 --set dist_check_every=1");
  ASSERT_EQ(two.code, 0) << two.err;  // the parameters' checksums agreed at every step
  EXPECT_NEAR(final_loss(two), final_loss(one), 0.05 * final_loss(one));
  // SyncBatchNorm: the global batch's statistics — the same run as one process. In float64:
  // in float32 the two partitions' rounding (1e-7 at step 1) is amplified by AdamW on
  // near-zero gradients to ~1e-3 by step 40, the noise floor of any re-partitioned run.
  const auto one64 = run_cli(run + " --set dtype=float64 --nproc 1");
  ASSERT_EQ(one64.code, 0) << one64.err;
  const auto synced =
      run_cli(run + " --set dtype=float64 --nproc 2 --set dist_sync_batchnorm=true");
  ASSERT_EQ(synced.code, 0) << synced.err;
  EXPECT_NEAR(final_loss(synced), final_loss(one64), 1e-6 * final_loss(one64));
  // The exact meta-Hessian differentiates through SyncBatchNorm's backward (g′ with
  // create_graph across the ranks' statistics): still one process's run.
  const std::string exact = " --set dtype=float64 --set meta_hessian=exact";
  const auto one_exact = run_cli(run + exact + " --nproc 1");
  ASSERT_EQ(one_exact.code, 0) << one_exact.err;
  const auto two_exact = run_cli(run + exact + " --nproc 2 --set dist_sync_batchnorm=true");
  ASSERT_EQ(two_exact.code, 0) << two_exact.err;
  EXPECT_NEAR(final_loss(two_exact), final_loss(one_exact), 1e-6 * final_loss(one_exact));
}

// A data-parallel study continues like one process's: every rank skips the runs that
// finished (rank 0 writes the index and logs, the others read them) and runs the rest
// together. Here the study grows from one seed to two: seed 0's runs are read back, their
// logs untouched, seed 1's run on both ranks — the same numbers as one process.
TEST(Cli, ADataParallelStudyContinuesWithoutRepeatingARun) {
  SKIP_WITHOUT_DATA_PARALLEL();
  const std::string dir = tmp("dp_study");
  std::filesystem::remove_all(dir);
  const std::string args =
      "compare --task synthetic --preset tiny --steps 30 --threads 1 --set meta_update_freq=10 "
      "--log-dir " +
      dir + " --nproc 2";
  auto r = run_cli(args + " --seeds 1 --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, std::filesystem::file_time_type> first;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".h5") first[e.path().string()] = e.last_write_time();
  ASSERT_EQ(first.size(), 2u);
  r = run_cli(args + " --seeds 2 --continue --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("finished before"), std::string::npos) << r.err;
  for (const auto& [f, t] : first)
    EXPECT_TRUE(std::filesystem::last_write_time(f) == t) << f << " was written again";
  const auto index = nlohmann::json::parse(slurp(dir + "/study.json"));
  EXPECT_EQ(index["runs"].size(), 4u);
  EXPECT_EQ(index["complete"], true);
  const auto two = nlohmann::json::parse(r.out);
  const auto one = run_cli(
      "compare --task synthetic --preset tiny --steps 30 --threads 1 --set meta_update_freq=10 "
      "--seeds 2 --quiet --json");
  ASSERT_EQ(one.code, 0) << one.err;
  const auto alone = nlohmann::json::parse(one.out);
  std::map<std::string, double> loss;  // (optimizer, seed) → final loss, one process
  for (const auto& run : alone["runs"])
    loss[run["optimizer"].get<std::string>() + std::to_string(run["seed"].get<int>())] =
        run["final_train_loss"];
  ASSERT_EQ(two["runs"].size(), 4u) << r.out;
  for (const auto& run : two["runs"]) {
    const std::string key =
        run["optimizer"].get<std::string>() + std::to_string(run["seed"].get<int>());
    ASSERT_TRUE(loss.count(key)) << key;
    const double y = run["final_train_loss"];
    EXPECT_NEAR(y, loss[key], 1e-4 * std::abs(loss[key])) << key;
  }
}

// torchrun's way: the processes started by hand with RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT; rank 0 prints, the run equals one process.
TEST(Cli, RanksStartedByTheirEnvironmentTrainAsOne) {
  SKIP_WITHOUT_DATA_PARALLEL();
  const std::string run =
      " train --task synthetic --optimizer metaadamw --steps 60 --seed 3 --set "
      "meta_update_freq=10 --threads 1 --json";
  const std::string out0 = tmp("env0.json"), out1 = tmp("env1.json");
  const std::string env =
      "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(29500 + getpid() % 2000) +
      " ";
  const std::string cmd = "(" + env + "RANK=0 " + METAADAMW_CLI + run + " > " + out0 +
                          " 2>/dev/null & " + env + "RANK=1 " + METAADAMW_CLI + run + " > " + out1 +
                          " 2>/dev/null & wait)";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const auto one = run_cli(run + " --nproc 1");
  ASSERT_EQ(one.code, 0);
  Result r0;
  r0.out = slurp(out0);
  ASSERT_FALSE(r0.out.empty());
  EXPECT_NEAR(final_loss(r0), final_loss(one), 1e-4 * std::abs(final_loss(one)));
  EXPECT_TRUE(slurp(out1).empty());  // only rank 0 prints
}

// A worker that dies ends the whole run at once, non-zero, rank 0's log closed with the
// error; a busy port and a world the environment gets wrong: a message, exit 2.
TEST(Cli, ADeadWorkerEndsTheRunAndBadWorldsAreRefused) {
  SKIP_WITHOUT_DATA_PARALLEL();
  const std::string log = tmp("dp_kill.h5");
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t launcher =
      spawn_cli("train --task synthetic --steps 100000000 --threads 1 --nproc 2 -q --log " + log);
  ASSERT_GT(launcher, 0);
  // Rank 1: the launcher's child whose environment says RANK=1, once it trains.
  pid_t victim = -1;
  for (int tries = 0; tries < 300 && victim < 0; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // The launcher's children: every process whose parent it is (/proc/N/stat's 4th field).
    std::vector<pid_t> kids;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
      const std::string name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      const std::string stat = slurp(e.path().string() + "/stat");
      const auto close = stat.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(stat.substr(close + 2));
      char state = 0;
      pid_t ppid = -1;
      rest >> state >> ppid;
      if (ppid == launcher) kids.push_back(static_cast<pid_t>(std::stol(name)));
    }
    for (const pid_t child : kids) {
      const std::string env = slurp("/proc/" + std::to_string(child) + "/environ");
      if (env.find(std::string("RANK=1") + '\0') == std::string::npos ||
          !std::filesystem::exists(log))
        continue;
      // Once the world trains (past the rendezvous): rank 0's log has steps.
      const auto seen = run_cli("inspect --json " + log);
      if (seen.code == 0 && nlohmann::json::parse(seen.out)["steps_recorded"].get<int>() > 0)
        victim = child;
    }
  }
  ASSERT_GT(victim, 0) << "no rank 1 found";
  ::kill(victim, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(launcher, &status, 0), launcher);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 120.0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  auto r = run_cli("inspect " + log);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("status     error"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("another rank died"), std::string::npos) << r.out;

  // A busy MASTER_PORT on rank 0.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string port = std::to_string(ntohs(a.sin_port));
  const std::string world = " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port;
  r = run_cli("train --task synthetic --steps 3 --threads 1 --set dist_timeout_s=5");
  ASSERT_EQ(r.code, 0);  // (alone: no world)
  const std::string cli = std::string(METAADAMW_CLI) +
                          " train --task synthetic --steps 3 "
                          "--threads 1 --set dist_timeout_s=5 2>&1";
  auto shell = [](const std::string& c) {
    std::string out;
    FILE* p = popen(c.c_str(), "r");
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int st = p ? pclose(p) : -1;
    return std::make_pair(WIFEXITED(st) ? WEXITSTATUS(st) : -1, out);
  };
  auto [code, out] = shell("env RANK=0" + world + " " + cli);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("MASTER_PORT " + port + " on 127.0.0.1 is in use"), std::string::npos) << out;
  ::close(fd);
  std::tie(code, out) = shell("env RANK=0 WORLD_SIZE=2 " + cli);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("needs MASTER_ADDR"), std::string::npos) << out;
  std::tie(code, out) = shell("env RANK=2" + world + " " + cli);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("outside the world"), std::string::npos) << out;
  EXPECT_EQ(run_cli("train --nproc 0").code, 2);
  // A batch smaller than the world: some rank would have no part of it.
  r = run_cli("train --task synthetic --steps 3 --threads 1 --set batch_size=1 --nproc 2");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("smaller than the 2 ranks"), std::string::npos) << r.err;
  // Ranks in different runs (here two seeds; in a continued study, ranks that saw
  // different finished runs): a clear error on both, not one model's collectives paired
  // with another's.
  const std::string pair =
      " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(31500 + getpid() % 2000) +
      " ";
  const std::string job =
      std::string(METAADAMW_CLI) + " train --task synthetic --steps 3 --threads 1 --seed ";
  const std::string err0 = tmp("mismatch0.err");
  const int both =
      std::system(("(env RANK=0" + pair + job + "1 2>" + err0 + " & env RANK=1" + pair + job +
                   "2 >/dev/null 2>&1; r1=$?; wait $!; r0=$?; " + "[ $r0 -ne 0 ] && [ $r1 -ne 0 ])")
                      .c_str());
  EXPECT_EQ(both, 0) << "both ranks must fail";
  EXPECT_NE(slurp(err0).find("not in the same run"), std::string::npos) << slurp(err0);
}

TEST(Cli, InspectAndExportRefuseBadFilesWithAMessage) {
  auto r = run_cli("inspect " + tmp("missing.h5"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
  const std::string text = tmp("text.h5");
  std::ofstream(text) << "not hdf5\n";
  r = run_cli("inspect " + text);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not an HDF5 file"), std::string::npos) << r.err;
  r = run_cli("export " + text);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--csv"), std::string::npos) << r.err;
  r = run_cli("inspect");
  EXPECT_EQ(r.code, 2);
  r = run_cli("compare --task synthetic --preset tiny --log x.h5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--log-dir"), std::string::npos) << r.err;
}

TEST(Cli, CompareWithLogDirWritesOneLogPerRunAndAStudyIndex) {
  const std::string dir = tmp("study");
  auto r = run_cli(
      "compare --task synthetic --preset tiny --threads 1 --steps 20 --seeds 2 "
      "--quiet --log-dir " +
      dir);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f :
       {"adamw-seed0.h5", "adamw-seed1.h5", "metaadamw-seed0.h5", "metaadamw-seed1.h5"}) {
    ASSERT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
    auto i = run_cli("inspect --json " + dir + "/" + f);
    ASSERT_EQ(i.code, 0) << i.err;
    EXPECT_EQ(nlohmann::json::parse(i.out)["status"], "completed");
  }
  const auto index = nlohmann::json::parse(slurp(dir + "/study.json"));
  EXPECT_EQ(index["schema"], "metaadamw-study");
  EXPECT_EQ(index["kind"], "compare");
  EXPECT_EQ(index["complete"], true);
  ASSERT_EQ(index["runs"].size(), 4u);
  EXPECT_EQ(index["runs"][1]["file"], "metaadamw-seed0.h5");
  EXPECT_EQ(index["runs"][1]["summary"]["optimizer"], "metaadamw");
  EXPECT_TRUE(index["study"].contains("p_value"));
}

// A study killed mid-run (SIGKILL: no chance to tidy up) and continued: the runs it had
// finished are read back — their logs untouched — the killed one runs again, the rest run,
// and the result equals that of the same study run without interruption.
TEST(Cli, AKilledStudyContinuesWithoutRepeatingOrLosingARun) {
  const std::string args =
      "compare --task synthetic --preset tiny --device cpu --threads 1 --steps 3000 --seeds 3 "
      "--quiet --log-dir ";
  const std::string dir = tmp("killed_study"), whole = tmp("whole_study");
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(whole);
  const pid_t pid = spawn_cli(args + dir);
  ASSERT_GE(pid, 0);
  // Wait until two runs are indexed, the third under way.
  size_t indexed = 0;
  for (int k = 0; k < 600 && indexed < 2; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(dir + "/study.json");
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_object() && j.contains("runs")) indexed = j["runs"].size();
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_GE(indexed, 2u) << "the study never indexed two runs";
  const auto before = nlohmann::json::parse(slurp(dir + "/study.json"));
  ASSERT_LT(before["runs"].size(), 6u) << "the study finished before the kill: slow it down";
  EXPECT_EQ(before["complete"], false);
  std::map<std::string, std::pair<std::filesystem::file_time_type, uintmax_t>> finished;
  for (const auto& run : before["runs"]) {
    const std::string f = dir + "/" + run["file"].get<std::string>();
    finished[run["file"]] = {std::filesystem::last_write_time(f), std::filesystem::file_size(f)};
  }

  // Continuing under other options is refused, the study untouched.
  auto r = run_cli(args + dir + " --continue --lr 1e-2");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("differs in: lr"), std::string::npos) << r.err;
  r = run_cli(args + dir);  // neither --continue nor --overwrite
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--continue"), std::string::npos) << r.err;

  auto c =
      run_cli(std::string(args).replace(args.find(" --quiet"), 8, "") + dir + " --continue --json");
  ASSERT_EQ(c.code, 0) << c.err;
  size_t read_back = 0;
  for (size_t at = 0; (at = c.err.find("read back", at)) != std::string::npos; ++at) ++read_back;
  EXPECT_EQ(read_back, finished.size()) << c.err;
  for (const auto& [file, stamp] : finished) {
    const std::string f = dir + "/" + file;
    EXPECT_EQ(std::filesystem::last_write_time(f), stamp.first) << file << " was rewritten";
    EXPECT_EQ(std::filesystem::file_size(f), stamp.second) << file;
  }
  const auto after = nlohmann::json::parse(slurp(dir + "/study.json"));
  EXPECT_EQ(after["complete"], true);
  ASSERT_EQ(after["runs"].size(), 6u);
  std::set<std::string> files;
  for (const auto& run : after["runs"]) {
    files.insert(run["file"].get<std::string>());
    EXPECT_EQ(run["summary"]["status"], "completed") << run["file"];
    auto i = run_cli("inspect --json " + dir + "/" + run["file"].get<std::string>());
    ASSERT_EQ(i.code, 0) << i.err;
    EXPECT_EQ(nlohmann::json::parse(i.out)["status"], "completed") << run["file"];
  }
  EXPECT_EQ(files.size(), 6u) << "a run is indexed twice";

  // The same numbers as an uninterrupted study (the runs are deterministic).
  auto w = run_cli(args + whole + " --json");
  ASSERT_EQ(w.code, 0) << w.err;
  const auto jc = nlohmann::json::parse(c.out), jw = nlohmann::json::parse(w.out);
  ASSERT_EQ(jc["runs"].size(), jw["runs"].size());
  for (size_t k = 0; k < jw["runs"].size(); ++k) {
    EXPECT_EQ(jc["runs"][k]["optimizer"], jw["runs"][k]["optimizer"]);
    EXPECT_EQ(jc["runs"][k]["seed"], jw["runs"][k]["seed"]);
    EXPECT_EQ(jc["runs"][k]["eval_metric"], jw["runs"][k]["eval_metric"]) << k;
    EXPECT_EQ(jc["runs"][k]["final_train_loss"], jw["runs"][k]["final_train_loss"]) << k;
  }
  EXPECT_EQ(jc["p_value"], jw["p_value"]);
  EXPECT_EQ(jc["adamw"]["best"], jw["adamw"]["best"]);
  EXPECT_EQ(jc["metaadamw"]["best"], jw["metaadamw"]["best"]);
}

// The evidence protocol end to end on the tiny synthetic task: AdamW tuned on the
// validation split, MetaAdamW at its η, λ, both compared on fresh seeds; continued, every
// run is read back; two studies reported with Holm's correction.
TEST(Cli, StudyTunesOnValidationThenComparesOnFreshSeedsAndReports) {
  const std::string dir = tmp("protocol");
  std::filesystem::remove_all(dir);
  const std::string args =
      "study --task synthetic --preset tiny --threads 1 --steps 60 --seeds 2 "
      "--grid lr=1e-4,3e-3 --grid weight_decay=0,0.01 --meta-grid meta_update_freq=10,20 "
      "--log-dir " +
      dir;
  auto r = run_cli(args + " --json --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto p = nlohmann::json::parse(slurp(dir + "/protocol.json"));
  EXPECT_EQ(p["schema"], "metaadamw-protocol");
  EXPECT_EQ(p["complete"], true);
  EXPECT_EQ(p["evaluation_seeds"], nlohmann::json::parse("[100, 101]"));
  // AdamW's choice is the grid point with the best mean validation metric (mse: lower).
  const auto tune = nlohmann::json::parse(slurp(dir + "/tune-adamw/study.json"))["study"];
  ASSERT_EQ(tune["results"].size(), 4u);
  double best_val = INFINITY;
  nlohmann::json best_settings;
  for (const auto& point : tune["results"]) {
    ASSERT_FALSE(point["val"]["mean"].is_null()) << point.dump();
    if (point["val"]["mean"].get<double>() < best_val) {
      best_val = point["val"]["mean"].get<double>();
      best_settings = point["settings"];
    }
  }
  EXPECT_EQ(p["adamw"]["settings"], best_settings);
  EXPECT_NE(tune["selected_by"].get<std::string>().find("validation"), std::string::npos);
  // MetaAdamW was tuned at AdamW's η, λ.
  const auto meta = nlohmann::json::parse(slurp(dir + "/tune-metaadamw/study.json"));
  EXPECT_EQ(meta["config"]["lr"].get<double>(), std::stod(best_settings["lr"].get<std::string>()));
  EXPECT_EQ(meta["config"]["weight_decay"].get<double>(),
            std::stod(best_settings["weight_decay"].get<std::string>()));
  ASSERT_EQ(meta["runs"].size(), 2u);
  // The comparison ran both at the chosen settings on seeds 100 and 101.
  const auto cmp = nlohmann::json::parse(slurp(dir + "/compare/study.json"));
  ASSERT_EQ(cmp["runs"].size(), 4u);
  EXPECT_EQ(cmp["runs"][0]["seed"], 100);
  EXPECT_EQ(cmp["config"]["meta_update_freq"].get<int>(),
            std::stoi(p["metaadamw"]["settings"]["meta_update_freq"].get<std::string>()));
  for (const char* key : {"p_value", "wilcoxon", "effect", "time_to_target", "time_ratio"})
    EXPECT_TRUE(p["compare"].contains(key)) << key;

  // Again with --continue: nothing runs, every run is read back, the same answer.
  auto again = run_cli(args + " --continue --json");
  ASSERT_EQ(again.code, 0) << again.err;
  size_t read_back = 0;
  for (size_t at = 0; (at = again.err.find("read back", at)) != std::string::npos; ++at)
    ++read_back;
  EXPECT_EQ(read_back, 4u + 2u + 4u) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["compare"]["p_value"], p["compare"]["p_value"]);
  // Its JSON alone, carried to another machine (no logs): continued, nothing runs again and
  // the answer, time to target (from the evaluations) included, is the same.
  const std::string carried = tmp("protocol_carried");
  std::filesystem::remove_all(carried);
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.path().extension() != ".json") continue;
    const auto to = std::filesystem::path(carried) / std::filesystem::relative(f.path(), dir);
    std::filesystem::create_directories(to.parent_path());
    std::filesystem::copy_file(f.path(), to);
  }
  auto moved = run_cli(std::string(args).replace(args.find(dir), dir.size(), carried) +
                       " --continue --json");
  ASSERT_EQ(moved.code, 0) << moved.err;
  size_t from_index = 0;
  for (size_t at = 0; (at = moved.err.find("from study.json", at)) != std::string::npos; ++at)
    ++from_index;
  EXPECT_EQ(from_index, 4u + 2u + 4u) << moved.err;
  const auto moved_compare = nlohmann::json::parse(moved.out)["compare"];
  EXPECT_EQ(moved_compare["p_value"], p["compare"]["p_value"]);
  EXPECT_EQ(moved_compare["time_to_target"], p["compare"]["time_to_target"]);
  EXPECT_FALSE(
      std::filesystem::exists(carried + "/compare/" + cmp["runs"][0]["file"].get<std::string>()));
  // Carried JSON indexed before runs recorded their evaluations: the tuning sweeps choose
  // on each run's validation metric, so their runs are read back; the comparison needs the
  // evaluations (time to target), so its runs run again — to the same answer.
  const std::string older = tmp("protocol_carried_older");
  std::filesystem::remove_all(older);
  std::filesystem::copy(carried, older, std::filesystem::copy_options::recursive);
  for (const auto& f : std::filesystem::recursive_directory_iterator(older)) {
    if (f.path().filename() != "study.json") continue;
    auto j = nlohmann::ordered_json::parse(slurp(f.path().string()));
    for (auto& run : j["runs"]) run.erase("evals");
    std::ofstream(f.path()) << j.dump(1);
  }
  auto old_run =
      run_cli(std::string(args).replace(args.find(dir), dir.size(), older) + " --continue --json");
  ASSERT_EQ(old_run.code, 0) << old_run.err;
  size_t carried_back = 0;
  for (size_t at = 0; (at = old_run.err.find("from study.json", at)) != std::string::npos; ++at)
    ++carried_back;
  EXPECT_EQ(carried_back, 4u + 2u) << old_run.err;
  EXPECT_TRUE(
      std::filesystem::exists(older + "/compare/" + cmp["runs"][0]["file"].get<std::string>()));
  EXPECT_EQ(nlohmann::json::parse(old_run.out)["compare"]["p_value"], p["compare"]["p_value"]);
  // Without --continue or --overwrite the folder is refused; other options too.
  EXPECT_EQ(run_cli(args + " --quiet").code, 2);
  auto other = run_cli(args + " --continue --lr 0.5 --quiet");
  EXPECT_EQ(other.code, 2);
  EXPECT_NE(other.err.find("other options"), std::string::npos) << other.err;

  // Two studies side by side: Holm doubles the smaller p-value of two equal ones.
  const std::string copy = tmp("protocol_copy");
  std::filesystem::remove_all(copy);
  std::filesystem::copy(dir, copy, std::filesystem::copy_options::recursive);
  auto rep = run_cli("report --json " + dir + " " + copy);
  ASSERT_EQ(rep.code, 0) << rep.err;
  const auto j = nlohmann::json::parse(rep.out);
  ASSERT_EQ(j["tasks"].size(), 2u);
  if (j["tasks"][0]["p_t"].is_number()) {
    const double pt = j["tasks"][0]["p_t"].get<double>();
    EXPECT_NEAR(j["tasks"][0]["p_t_holm"].get<double>(), std::min(1.0, 2 * pt), 1e-12);
  }
  auto md = run_cli("report " + dir);
  ASSERT_EQ(md.code, 0) << md.err;
  EXPECT_NE(md.out.find("| task | metric | seeds | AdamW (tuned)"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("| synthetic | final mse (↓) | 2 |"), std::string::npos) << md.out;
  // An unfinished or foreign folder is refused with one line.
  auto bad = run_cli("report " + dir + "/compare");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("protocol.json"), std::string::npos) << bad.err;
}

// A study started by an older metaadamw (its recorded configuration lacks keys added
// since) continues while the new keys keep their defaults, and is refused, naming the
// key, when one is set.
TEST(Cli, AStudyOfAnOlderVersionContinuesUnderTheNewKeysDefaults) {
  const std::string dir = tmp("older_study");
  std::filesystem::remove_all(dir);
  const std::string args =
      "compare --task synthetic --preset tiny --threads 1 --steps 3 --quiet --log-dir " + dir;
  ASSERT_EQ(run_cli(args).code, 0);
  auto index = nlohmann::ordered_json::parse(slurp(dir + "/study.json"));
  for (const char* key : {"lr_schedule", "lr_warmup_steps", "lr_min_ratio"})
    ASSERT_EQ(index["config"].erase(key), 1u) << key;
  std::ofstream(dir + "/study.json") << index.dump(2);
  auto r = run_cli(args + " --seeds 2 --continue");
  EXPECT_EQ(r.code, 0) << r.err;
  // Where the modulators go is not how the runs train: a study continues under another.
  r = run_cli(args + " --seeds 3 --continue --set export_modulator=" + dir + "/m.pt");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir + "/m-seed2.pt"));
  r = run_cli(args + " --seeds 2 --continue --set lr_schedule=cosine");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("differs in: lr_schedule"), std::string::npos) << r.err;
}

// The referee's questions as study variants: each runs on the evaluation seeds at the
// tuned settings plus its own, paired with the tuned runs; a modulator one study exported
// starts another's MetaAdamW (transfer); a choice at a grid's edge is flagged.
TEST(Cli, StudyVariantsPairWithTheTunedRunsAndAModulatorTransfers) {
  const std::string src = tmp("variants_src"), dir = tmp("variants");
  std::filesystem::remove_all(src);
  std::filesystem::remove_all(dir);
  const std::string base =
      "study --task synthetic --preset tiny --threads 1 --steps 40 --seeds 2 "
      "--grid lr=3e-4,1e-3,3e-3 --grid weight_decay=0 --meta-grid meta_update_freq=10 --quiet ";
  auto r = run_cli(base + "--log-dir " + src);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto ps = nlohmann::json::parse(slurp(src + "/protocol.json"));
  // Every MetaAdamW evaluation seed exported its modulator; AdamW none.
  for (const char* seed : {"100", "101"})
    EXPECT_TRUE(std::filesystem::exists(src + "/compare/modulator-seed" + seed + ".pt")) << seed;
  EXPECT_FALSE(std::filesystem::exists(src + "/compare/modulator.pt"));
  const std::string lr = ps["adamw"]["settings"]["lr"];
  ASSERT_TRUE(ps["adamw"]["at_edge"].is_array());
  EXPECT_EQ(ps["adamw"]["at_edge"].size(), lr == "1e-3" ? 0u : 1u) << ps["adamw"].dump();
  if (lr != "1e-3") {
    EXPECT_EQ(ps["adamw"]["at_edge"][0], "lr=" + lr);
    EXPECT_NE(r.err.find("at the edge of its grid"), std::string::npos) << r.err;
  }

  const std::string modulator = src + "/compare/modulator-seed100.pt";
  const std::string args = base + "--log-dir " + dir +
                           " --variant fixed:meta_targets=fixed"
                           " --variant-both paper:lr=5e-4,weight_decay=0.01"
                           " --variant transfer:modulator=" +
                           modulator;
  r = run_cli(args);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto p = nlohmann::json::parse(slurp(dir + "/protocol.json"));
  ASSERT_TRUE(p.contains("variants")) << p.dump();
  const auto& v = p["variants"];
  ASSERT_EQ(v["fixed"]["comparisons"].size(), 2u);
  EXPECT_EQ(v["fixed"]["comparisons"][0]["baseline"], "adamw (tuned)");
  EXPECT_EQ(v["fixed"]["comparisons"][0]["candidate"], "metaadamw [fixed]");
  EXPECT_EQ(v["fixed"]["comparisons"][1]["baseline"], "metaadamw (tuned)");
  // Paired with the tuned runs: the baseline's per-seed values are the compare's.
  EXPECT_EQ(v["fixed"]["comparisons"][0]["adamw (tuned)"]["best"], p["compare"]["adamw"]["best"]);
  EXPECT_EQ(v["fixed"]["comparisons"][1]["metaadamw (tuned)"]["best"],
            p["compare"]["metaadamw"]["best"]);
  ASSERT_EQ(v["paper"]["comparisons"].size(), 4u);
  EXPECT_EQ(v["paper"]["comparisons"][3]["baseline"], "adamw [paper]");
  EXPECT_EQ(v["paper"]["comparisons"][3]["candidate"], "metaadamw (tuned)");
  EXPECT_EQ(v["paper"]["comparisons"][0]["baseline"], "adamw [paper]");
  EXPECT_EQ(v["paper"]["comparisons"][0]["candidate"], "metaadamw [paper]");
  ASSERT_EQ(v["transfer"]["comparisons"].size(), 2u);
  for (const char* name : {"fixed", "paper", "transfer"}) {
    const auto study = nlohmann::json::parse(slurp(dir + "/variant-" + name + "/study.json"));
    ASSERT_EQ(study["runs"].size(), std::string(name) == "paper" ? 4u : 2u) << name;
    EXPECT_EQ(study["runs"][0]["seed"], 100) << name;
  }
  const auto fixed = nlohmann::json::parse(slurp(dir + "/variant-fixed/study.json"));
  EXPECT_EQ(fixed["config"]["meta_targets"], "fixed");
  EXPECT_EQ(fixed["config"]["lr"].get<double>(),
            std::stod(p["adamw"]["settings"]["lr"].get<std::string>()));
  const auto transfer = nlohmann::json::parse(slurp(dir + "/variant-transfer/study.json"));
  EXPECT_EQ(transfer["config"]["modulator"], modulator);
  EXPECT_EQ(transfer["config"]["export_modulator"], "");
  // A transferred modulator changes the run: its first factors differ from a fresh one's.
  EXPECT_NE(v["transfer"]["comparisons"][1]["metaadamw [transfer]"]["best"],
            v["transfer"]["comparisons"][1]["metaadamw (tuned)"]["best"]);

  // --continue reads every run back, variants included (4 + 1 + 4 + 2 + 4 + 2).
  r = run_cli(args + " --continue");
  ASSERT_EQ(r.code, 0) << r.err;
  auto md = run_cli("report " + dir);
  ASSERT_EQ(md.code, 0) << md.err;
  EXPECT_NE(md.out.find("| synthetic | fixed (meta_targets=fixed) | adamw (tuned) → "
                        "metaadamw [fixed] |"),
            std::string::npos)
      << md.out;
  EXPECT_NE(md.out.find("| synthetic | paper (lr=5e-4, weight_decay=0.01) | adamw [paper] → "
                        "metaadamw [paper] |"),
            std::string::npos)
      << md.out;
  EXPECT_EQ(nlohmann::json::parse(run_cli("report --json " + dir).out)["tasks"][0]["variants"], v);
}

// Crash safety: a writer killed with SIGKILL mid-run leaves a file that opens and holds
// every record flushed before the kill.
TEST(Cli, ALogSurvivesKillDashNineOfItsWriter) {
  const std::string log = tmp("killed.h5");
  std::remove(log.c_str());
  const pid_t pid = spawn_cli(
      "train --task synthetic --preset tiny --device cpu --threads 1 --optimizer metaadamw "
      "--steps 1000000 --set snapshot_every=1 --set eval_every=50 --quiet --log " +
      log);
  ASSERT_GE(pid, 0);
  // Follow the growing file through `inspect` until it holds some steps.
  int64_t seen = 0;
  for (int k = 0; k < 600 && seen < 150; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto i = run_cli("inspect --json " + log);
    if (i.code == 0) {
      const auto j = nlohmann::json::parse(i.out);
      EXPECT_EQ(j["status"], "running");
      EXPECT_EQ(j["writer_alive"], true);
      seen = j["steps_recorded"];
    }
  }
  ASSERT_GE(seen, 150) << "the log never showed 150 steps";
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto r = run_cli("inspect " + log);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("interrupted — the writer"), std::string::npos) << r.out;
  r = run_cli("inspect --json " + log);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["writer_alive"], false);
  const int64_t steps = j["steps_recorded"];
  EXPECT_GE(steps, seen);  // everything flushed before the kill is there
  for (const auto& s : j["series"]) {
    const std::string p = s["path"];
    // A step's snapshot is queued after the step: a flush may fall between the two.
    if (p.rfind("steps/", 0) == 0) {
      EXPECT_GE(int64_t{s["shape"][0]}, seen) << p;
    } else if (p == "snapshots/step" || p == "snapshots/features") {
      EXPECT_GE(int64_t{s["shape"][0]}, seen - 1) << p;
    }
  }
  const std::string dir = tmp("killed_csv");
  r = run_cli("export " + log + " --csv " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(lines(dir + "/steps.csv"), static_cast<size_t>(seen) + 1);
  const std::string csv = slurp(dir + "/steps.csv");
  EXPECT_EQ(csv.find("nan"), std::string::npos);  // no half-written rows
}

// inspect and export on a MetaAdamW log of every task (tiny presets; a task whose data
// is not fetched is skipped and named).
TEST(Cli, InspectAndExportWorkOnLogsOfEveryTask) {
  std::string skipped;
  for (const char* task : {"image", "lm", "translation", "sentiment", "forecasting"}) {
    const std::string log = tmp(std::string(task) + ".h5"), dir = tmp(std::string(task) + "_csv");
    auto r = run_cli(std::string("train --task ") + task +
                     " --preset tiny --optimizer metaadamw --threads 1 --quiet --steps 12 "
                     "--set snapshot_every=2 --set attention_every=6 --log " +
                     log);
    if (r.code == 1 && r.err.find("data fetch") != std::string::npos) {
      skipped += std::string(" ") + task;
      continue;
    }
    ASSERT_EQ(r.code, 0) << task << ": " << r.err;
    r = run_cli("inspect --json " + log);
    ASSERT_EQ(r.code, 0) << task << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["attributes"]["task"], task);
    EXPECT_EQ(j["status"], "completed") << task;
    EXPECT_EQ(j["steps_recorded"], 12) << task;
    r = run_cli("export " + log + " --csv " + dir);
    ASSERT_EQ(r.code, 0) << task << ": " << r.err;
    EXPECT_EQ(lines(dir + "/steps.csv"), 13u) << task;
    EXPECT_EQ(lines(dir + "/attention.csv"), 3u) << task;  // steps 6 and 12
    EXPECT_GT(lines(dir + "/snapshots_features.csv"), 6u) << task;
    EXPECT_GE(lines(dir + "/evals.csv"), 2u) << task;
  }
  if (!skipped.empty()) GTEST_SKIP() << "data not fetched for:" << skipped;
}

}  // namespace

// The bad-input corpus (tests/corpus/cases.json): configs, flags, paths, checkpoints,
// modulators, logs and data files a user gets wrong. Each case exits with its code and
// says what and where; none shows a stack trace or aborts.
std::string substituted(std::string s, const std::string& tmpdir) {
  const std::vector<std::pair<std::string, std::string>> subs = {
      {"{tiny}", kTiny},
      {"{corpus}", std::string(METAADAMW_SOURCE_DIR) + "/tests/corpus"},
      {"{tmp}", tmpdir}};
  for (const auto& [from, to] : subs)
    for (size_t k; (k = s.find(from)) != std::string::npos;) s.replace(k, from.size(), to);
  return s;
}

void expect_clean_failure(const Result& r, int code, const std::string& fragment,
                          const std::string& what) {
  EXPECT_EQ(r.code, code) << what << "\n" << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << what << "\n" << r.err;
  for (const char* noise : {"frame #", "terminate called", "Exception raised from", "H5F"})
    EXPECT_EQ(r.err.find(noise), std::string::npos) << what << ": '" << noise << "'\n" << r.err;
}

TEST(Cli, BadInputCorpus) {
  const std::string dir = tmp("corpus");
  std::filesystem::create_directories(dir);
  const auto cases =
      nlohmann::json::parse(slurp(std::string(METAADAMW_SOURCE_DIR) + "/tests/corpus/cases.json"));
  ASSERT_GE(cases["cases"].size(), 60u);
  for (const auto& c : cases["cases"]) {
    const std::string args = substituted(c["args"].get<std::string>(), dir);
    expect_clean_failure(run_cli(args), c["exit"].get<int>(), c["stderr"].get<std::string>(), args);
  }
  std::filesystem::remove_all(dir);
}

// Files the corpus cannot hold: a real checkpoint with flipped bytes (it printed LibTorch's
// "index out of range in self … frame #0"), a checkpoint path under /proc, an allocation
// that cannot succeed.
TEST(Cli, DamagedCheckpointsAndHugeModelsFailInOneLine) {
  const std::string ckpt = tmp("good.pt");
  auto r = run_cli(std::string(kTiny) + " --optimizer metaadamw --set checkpoint=" + ckpt +
                   " --set checkpoint_at=20 --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string good = slurp(ckpt);
  ASSERT_GT(good.size(), 1000u);
  std::mt19937 rng(3);
  for (int trial = 0; trial < 6; ++trial) {
    std::string bad = good;
    for (int k = 0; k < 20; ++k) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    const std::string path = tmp("flipped" + std::to_string(trial) + ".pt");
    std::ofstream(path, std::ios::binary) << bad;
    r = run_cli(std::string(kTiny) + " --optimizer metaadamw --quiet --resume " + path);
    // Some flips land in padding and the run resumes; the rest are one line naming the file.
    if (r.code != 0) expect_clean_failure(r, 1, path, "flipped checkpoint " + path);
  }
  r = run_cli(std::string(kTiny) + " --set checkpoint=/proc/c.pt --set checkpoint_at=5");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("/proc/c.pt"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("frame #"), std::string::npos) << r.err;
  r = run_cli(std::string(kTiny) + " --set synthetic.hidden=100000000");
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.find("frame #"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("memory"), std::string::npos) << r.err;
}

// Findings 3 and 4: a second writer destroyed a log, --log replaced one silently.
TEST(Cli, ALogIsNeverReplacedSilentlyNorSharedByTwoWriters) {
  const std::string log = tmp("kept.h5");
  auto r = run_cli(std::string(kTiny) + " --quiet --log " + log);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto size = std::filesystem::file_size(log);
  r = run_cli(std::string(kTiny) + " --quiet --seed 5 --log " + log);
  expect_clean_failure(r, 2, "already exists", "second --log");
  EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
  EXPECT_EQ(std::filesystem::file_size(log), size);
  r = run_cli(std::string(kTiny) + " --quiet --seed 5 --overwrite --json --log " + log);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(run_cli("inspect " + log).out.find("seed 5"), std::string::npos);

  // A long run holds the log; a second writer started meanwhile is refused with its pid.
  const std::string live = tmp("live.h5");
  const pid_t pid = spawn_cli(
      "train --task synthetic --preset tiny --threads 1 --steps 1000000 --quiet --log " + live);
  ASSERT_GE(pid, 0);
  for (int k = 0; k < 300 && run_cli("inspect " + live).code != 0; ++k)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (const char* extra : {"", " --overwrite"}) {
    r = run_cli(std::string(kTiny) + " --quiet --log " + live + extra);
    expect_clean_failure(r, 1, "is in use by pid " + std::to_string(pid), extra);
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  r = run_cli("inspect --json " + live);
  ASSERT_EQ(r.code, 0) << r.err;  // the first writer's log is whole
  EXPECT_EQ(nlohmann::json::parse(r.out)["status"], "stopped");

  // compare / sweep: a folder holding a study is refused before the first run.
  const std::string dir = tmp("kept_study");
  const std::string study =
      "compare --task synthetic --preset tiny --threads 1 --steps 5 --quiet --log-dir " + dir;
  r = run_cli(study);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli(study);
  expect_clean_failure(r, 2, "already holds a study", "second compare");
  EXPECT_EQ(run_cli(study + " --overwrite").code, 0);
  std::filesystem::remove(dir + "/study.json");
  r = run_cli(study);
  expect_clean_failure(r, 2, "adamw-seed0.h5' already exists", "compare onto old logs");
}

// Finding 9's silently accepted cases, each decided (docs/CLI.md, "What is refused").
TEST(Cli, FormerlySilentCasesWorkAsDocumented) {
  // batch_size 0 means the preset's, also when given.
  auto r = run_cli(std::string(kTiny) + " --batch-size 0 --json --quiet");
  EXPECT_EQ(r.code, 0) << r.err;
  // The whole uint64 seed range, as logs store it.
  r = run_cli(std::string(kTiny) + " --seed 18446744073709551615 --json --quiet");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(field(r.out, "seed"), "18446744073709551615");
  // compare exits 3 on divergence and says so under --quiet too.
  r = run_cli(
      "compare --task synthetic --preset tiny --threads 1 --steps 20 --quiet --set lr=1e30 "
      "--optimizers adamw");
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("1 of 1 runs diverged (adamw seed 0)"), std::string::npos) << r.err;
}

// Finding 7: every option that `--help` or docs/CLI.md names is accepted and works.
TEST(Cli, EveryDocumentedOptionIsAccepted) {
  const std::string dir = tmp("options");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/c.json") << "{\"steps\": 3}";
  const std::string run = "train --task synthetic --preset tiny --threads 1 --steps 3 --quiet ";
  ASSERT_EQ(run_cli(run + "--optimizer metaadamw --set export_modulator=" + dir +
                    "/m.pt --set checkpoint=" + dir + "/c.pt --set checkpoint_at=2")
                .code,
            0);
  const std::string log = dir + "/run.h5";
  ASSERT_EQ(run_cli(run + "--log " + log).code, 0);
  const std::string study =
      "compare --task synthetic --preset tiny --threads 1 --steps 2 --quiet --log-dir " + dir +
      "/continued";
  ASSERT_EQ(run_cli(study).code, 0);
  const std::map<std::string, std::string> sample = {
      {"--continue", study + " --seeds 2 --continue"},
      {"--meta-grid",
       "study --task synthetic --preset tiny --threads 1 --steps 2 --quiet --seeds 1 --grid "
       "lr=1e-3 --meta-grid meta_lr=1e-2 --log-dir " +
           dir + "/study_meta"},
      {"--tune-seeds",
       "study --task synthetic --preset tiny --threads 1 --steps 2 --quiet --seeds 1 --grid "
       "lr=1e-3 --meta-grid meta_lr=1e-2 --tune-seeds 2 --log-dir " +
           dir + "/study_tune"},
      {"--variant",
       "study --task synthetic --preset tiny --threads 1 --steps 2 --quiet --seeds 1 --grid "
       "lr=1e-3 --meta-grid meta_lr=1e-2 --variant fixed:meta_targets=fixed --log-dir " +
           dir + "/study_variant"},
      {"--variant-both",
       "study --task synthetic --preset tiny --threads 1 --steps 2 --quiet --seeds 1 --grid "
       "lr=1e-3 --meta-grid meta_lr=1e-2 --variant-both paper:lr=5e-4 --log-dir " +
           dir + "/study_variant_both"},
      {"--task", run + "--task synthetic"},
      {"--preset", run + "--preset tiny"},
      {"--optimizer", run + "--optimizer torch_adamw"},
      {"--optimizers",
       "compare --task synthetic --preset tiny --threads 1 --steps 2 --quiet "
       "--optimizers adamw,torch_adamw"},
      {"--seeds", "compare --task synthetic --preset tiny --threads 1 --steps 2 --quiet --seeds 2"},
      {"--grid",
       "sweep --task synthetic --preset tiny --threads 1 --steps 2 --quiet --grid "
       "lr=1e-3,2e-3 --optimizers adamw"},
      {"--seed", run + "--seed 4"},
      {"--steps", run + "--steps 2"},
      {"--epochs", run + "--steps 0 --epochs 1"},
      {"--batch-size", run + "--batch-size 8"},
      {"--lr", run + "--lr 0.002"},
      {"--groups", run + "--groups per_module"},
      {"--threads", run + "--threads 1"},
      {"--device", run + "--device cpu"},
      {"--modulator", run + "--optimizer metaadamw --modulator " + dir + "/m.pt"},
      {"--resume", run + "--optimizer metaadamw --resume " + dir + "/c.pt"},
      {"--data-dir", run + "--data-dir " + dir},
      {"--config", run + "--config " + dir + "/c.json"},
      {"--set", run + "--set eval_every=2"},
      {"--log", run + "--log " + dir + "/another.h5"},
      {"--log-dir",
       "compare --task synthetic --preset tiny --threads 1 --steps 2 --quiet "
       "--log-dir " +
           dir + "/study"},
      {"--overwrite", run + "--log " + log + " --overwrite"},
      {"--json", run + "--json"},
      {"--quiet", run},
      {"--help", "train --help"},
      {"--version", "--version"},
      {"--csv", "export " + log + " --csv " + dir + "/csv"},
      {"--center", "landscape --grid 3 --center 0,0 " + log},
      {"--range", "landscape --grid 3 --range 0.5 " + log},
      {"--points", "interpolate --points 5 " + log + " " + log},
      {"--nproc", run + "--nproc 1"},
  };
  std::set<std::string> documented;
  auto collect = [&](const std::string& text, bool skip_install_lines) {
    std::istringstream in(text);
    std::string line;
    const std::regex option("--[a-z][a-z-]+");
    while (std::getline(in, line)) {
      if (skip_install_lines && line.find("install-deps") != std::string::npos) continue;
      for (std::sregex_iterator it(line.begin(), line.end(), option), end; it != end; ++it)
        documented.insert(it->str());
    }
  };
  collect(run_cli("--help").out, false);
  collect(slurp(std::string(METAADAMW_SOURCE_DIR) + "/docs/CLI.md"), true);
  ASSERT_GE(documented.size(), 20u);
  for (const auto& opt : documented) {
    auto it = sample.find(opt);
    if (it == sample.end()) {
      ADD_FAILURE() << opt << " is documented; give it a sample command in this test";
      continue;
    }
    const auto r = run_cli(it->second);
    EXPECT_EQ(r.code, 0) << opt << ": " << it->second << "\n" << r.err;
    EXPECT_EQ(r.err.find("unknown option"), std::string::npos) << opt << ": " << r.err;
  }
  std::filesystem::remove_all(dir);
}

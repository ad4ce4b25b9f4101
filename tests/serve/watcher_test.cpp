// StoreWatcher against a hand-made store: a version that fails to load keeps the old one
// serving (and is counted), a good new version is swapped in, and good inferences on a trial
// version are reported until the agent marks it good.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ota/state.hpp"
#include "serve/store_watcher.hpp"

using namespace petrel;
using namespace petrel::serve;
namespace fs = std::filesystem;

namespace {

const std::string kFashion = std::string(PETREL_SOURCE_DIR) + "/models/fashion_mnist/fashion_cnn.onnx";

struct TempStore {
  std::string dir;
  TempStore() {
    char tmpl[] = "/tmp/petrel-watch-XXXXXX";
    dir = mkdtemp(tmpl);
    auto s = ota::Store::open(dir);  // creates the layout
    EXPECT_TRUE(s) << s.status().to_string();
  }
  ~TempStore() { fs::remove_all(dir); }
  void slot(const std::string& n, bool good_model) {
    fs::create_directories(dir + "/slots/" + n);
    if (good_model) fs::copy_file(kFashion, dir + "/slots/" + n + "/model.onnx", fs::copy_options::overwrite_existing);
    else std::ofstream(dir + "/slots/" + n + "/model.onnx") << "not an onnx model";
  }
  void activate(const std::string& n, const std::string& version, const std::string& status = "good",
                int64_t trial_good_needed = 5) {
    ota::StoreState s;
    s.next_slot = 100;
    s.trial_good_needed = trial_good_needed;
    ota::SlotInfo a;
    a.slot = n;
    a.name = "fashion";
    a.version = version;
    a.status = status;
    s.active = a;
    std::ofstream(dir + "/state.json") << ota::state_to_json(s);
  }
};

}  // namespace

TEST(StoreWatcher, FailedLoadKeepsTheOldVersionThenSwaps) {
  TempStore st;
  st.slot("1", true);
  st.activate("1", "1.0.0");
  ModelTable models;
  Metrics metrics;
  auto w = StoreWatcher::open(st.dir, HostOptions{}, models, metrics);
  ASSERT_TRUE(w) << w.status().to_string();
  EXPECT_EQ(models.get("fashion")->host.load()->version(), "1.0.0");

  st.slot("2", false);
  st.activate("2", "2.0.0");
  (*w)->tick();
  EXPECT_EQ(models.get("fashion")->host.load()->version(), "1.0.0") << "a broken version must not replace a good one";
  EXPECT_NE(metrics.render().find("petrel_model_load_failures_total{model=\"fashion\"} 1"), std::string::npos);
  (*w)->tick();  // not retried while the same slot stays active
  EXPECT_NE(metrics.render().find("petrel_model_load_failures_total{model=\"fashion\"} 1"), std::string::npos);

  st.slot("3", true);
  st.activate("3", "3.0.0");
  (*w)->tick();
  EXPECT_EQ(models.get("fashion")->host.load()->version(), "3.0.0");
  std::string m = metrics.render();
  EXPECT_NE(m.find("petrel_model_swaps_total{model=\"fashion\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("petrel_model_info{contexts=\"1\",model=\"fashion\",version=\"3.0.0\"} 1"), std::string::npos) << m;
  EXPECT_EQ(m.find("version=\"1.0.0\"} 1"), std::string::npos) << "the old version's info series is gone";
}

TEST(StoreWatcher, ReportsGoodInferencesUntilMarkedGood) {
  TempStore st;
  st.slot("1", true);
  st.activate("1", "1.0.0", "trial", 3);
  ModelTable models;
  Metrics metrics;
  auto w = StoreWatcher::open(st.dir, HostOptions{}, models, metrics);
  ASSERT_TRUE(w) << w.status().to_string();
  auto host = (*w)->current();
  ASSERT_TRUE(host);
  host->good_runs += 2;
  (*w)->tick();
  auto store = ota::Store::open(st.dir);
  ASSERT_TRUE(store);
  auto s = (*store)->state();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->active->status, "trial");
  EXPECT_EQ(s->active->trial_good, 2);
  host->good_runs += 10;  // only one more is needed and reported
  (*w)->tick();
  s = (*store)->state();
  EXPECT_EQ(s->active->status, "good");
  EXPECT_EQ(s->active->trial_good, 3);
  EXPECT_EQ(host->good_runs.load(), 0);
}

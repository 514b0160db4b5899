// Tests for sendmail_queue: file kinds, queue subdirectories, several
// directories, Sendmail's lock, and removal, on real temporary directories.
#include "common/mta/sendmail_queue.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace etrn {
namespace {

namespace fs = std::filesystem;

class SendmailQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "etrn-sendmail-queue-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "test files left in " << dir_ << "\n";
    } else {
      fs::remove_all(dir_);
    }
  }
  static void write(const fs::path& path, const std::string& text = "x\n") {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  static std::vector<std::string> ids(const SendmailQueue& queue) {
    std::vector<std::string> out;
    auto listed = queue.for_each_file(
        [&](SendmailQueueFile&& f) { out.push_back(f.queue_id + (f.quarantined ? ":hold" : "")); });
    EXPECT_TRUE(listed.ok()) << listed.error().message;
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir_;
};

TEST_F(SendmailQueueTest, ListsQueuedAndQuarantinedMessagesOnlyAndNeverHalfWrittenOnes) {
  write(dir_ / "qf6AT3P87O011046");
  write(dir_ / "df6AT3P87O011046");
  write(dir_ / "hf6AT3SGBe016782");
  write(dir_ / "tf6AT3TOpV018079");  // being written by Sendmail
  write(dir_ / "xf6AT3TOpV018079");  // a transcript
  write(dir_ / "Qf6AT3TORq018081");  // set aside by Sendmail as damaged
  write(dir_ / "qf..");              // not a queue ID
  EXPECT_EQ(ids(SendmailQueue({dir_.string()})),
            (std::vector<std::string>{"6AT3P87O011046", "6AT3SGBe016782:hold"}));
}

TEST_F(SendmailQueueTest, FindsFilesInTheQfDfAndXfSubdirectories) {
  write(dir_ / "qf" / "qf6AT3P87O011046");
  write(dir_ / "df" / "df6AT3P87O011046");
  fs::create_directories(dir_ / "xf");
  const SendmailQueue queue({dir_.string()});
  auto file = queue.find("6AT3P87O011046");
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->control_path, (dir_ / "qf" / "qf6AT3P87O011046").string());
  EXPECT_EQ(file->data_path, (dir_ / "df" / "df6AT3P87O011046").string());
  EXPECT_EQ(file->transcript_path, (dir_ / "xf" / "xf6AT3P87O011046").string());
  EXPECT_FALSE(file->quarantined);
}

TEST_F(SendmailQueueTest, ExpandsAStarToEveryQueueDirectoryAndTakesCommaLists) {
  fs::create_directories(dir_ / "q1");
  fs::create_directories(dir_ / "q2");
  write(dir_ / "qfile-not-a-dir");
  const auto dirs = sendmail_queue_directories((dir_ / "q*").string() + ", /var/spool/other");
  EXPECT_EQ(dirs, (std::vector<std::string>{(dir_ / "q1").string(), (dir_ / "q2").string(),
                                            "/var/spool/other"}));
  write(dir_ / "q1" / "qfAAAAAA1");
  write(dir_ / "q2" / "qf" / "qfBBBBBB2");
  EXPECT_EQ(ids(SendmailQueue(sendmail_queue_directories((dir_ / "q*").string()))),
            (std::vector<std::string>{"AAAAAA1", "BBBBBB2"}));
}

TEST_F(SendmailQueueTest, AMissingQueueDirectoryIsAnErrorSoNothingLooksGone) {
  const SendmailQueue queue({(dir_ / "absent").string()});
  auto listed = queue.for_each_file([](SendmailQueueFile&&) {});
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.error().message.find("absent"), std::string::npos) << listed.error().message;
  EXPECT_FALSE(SendmailQueue({}).for_each_file([](SendmailQueueFile&&) {}).ok());
}

TEST_F(SendmailQueueTest, RejectsQueueIdsThatCouldNameAnotherFileOrAnOption) {
  for (const char* bad : {"", "-qfoo12", "../../etc", "abc", "6AT3P87O 011046"}) {
    EXPECT_FALSE(validate_sendmail_queue_id(bad).ok()) << "accepted \"" << bad << "\"";
  }
  EXPECT_TRUE(validate_sendmail_queue_id("6AT3P87O011046").ok());
}

TEST_F(SendmailQueueTest, ReadsAControlFileAndSaysBusyWhileSendmailHoldsItsLock) {
  write(dir_ / "qf6AT3P87O011046", "V8\n.\n");
  const SendmailQueue queue({dir_.string()});
  auto file = queue.find("6AT3P87O011046");
  ASSERT_TRUE(file.ok());
  auto free = SendmailQueue::read_control(*file);
  ASSERT_TRUE(free.ok()) << free.error().message;
  EXPECT_EQ(free->text, "V8\n.\n");
  EXPECT_FALSE(free->busy);

  const int sendmail = ::open(file->control_path.c_str(), O_RDWR);
  ASSERT_EQ(::flock(sendmail, LOCK_EX), 0);
  auto busy = SendmailQueue::read_control(*file);
  ::close(sendmail);
  ASSERT_TRUE(busy.ok()) << busy.error().message;
  EXPECT_TRUE(busy->busy) << "got not busy for a file under LOCK_EX";
  EXPECT_EQ(busy->text, "V8\n.\n");
}

TEST_F(SendmailQueueTest, RemovesDataTranscriptAndControlFile) {
  write(dir_ / "qf" / "qf6AT3P87O011046");
  write(dir_ / "df" / "df6AT3P87O011046");
  write(dir_ / "xf" / "xf6AT3P87O011046");
  write(dir_ / "df" / "df6AT3P87P011046");  // another message's body stays
  auto file = SendmailQueue({dir_.string()}).find("6AT3P87O011046");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(SendmailQueue::remove(*file).ok());
  EXPECT_FALSE(fs::exists(dir_ / "qf" / "qf6AT3P87O011046"));
  EXPECT_FALSE(fs::exists(dir_ / "df" / "df6AT3P87O011046"));
  EXPECT_FALSE(fs::exists(dir_ / "xf" / "xf6AT3P87O011046"));
  EXPECT_TRUE(fs::exists(dir_ / "df" / "df6AT3P87P011046"));
}

TEST_F(SendmailQueueTest, DoesNotRemoveABusyMessage) {
  write(dir_ / "hf6AT3SGBe016782");
  write(dir_ / "df6AT3SGBe016782");
  auto file = SendmailQueue({dir_.string()}).find("6AT3SGBe016782");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->quarantined);
  const int sendmail = ::open(file->control_path.c_str(), O_RDWR);
  ASSERT_EQ(::flock(sendmail, LOCK_EX), 0);
  auto removed = SendmailQueue::remove(*file);
  ::close(sendmail);
  ASSERT_FALSE(removed.ok()) << "removed a message Sendmail holds";
  EXPECT_NE(removed.error().message.find("busy"), std::string::npos) << removed.error().message;
  EXPECT_TRUE(fs::exists(dir_ / "hf6AT3SGBe016782"));
  EXPECT_TRUE(fs::exists(dir_ / "df6AT3SGBe016782"));
}

TEST_F(SendmailQueueTest, AMessageNoLongerQueuedIsAnError) {
  auto file = SendmailQueue({dir_.string()}).find("6AT3P87O011046");
  EXPECT_FALSE(file.ok());
  SendmailQueueFile gone{"6AT3P87O011046", (dir_ / "qf6AT3P87O011046").string(),
                         (dir_ / "df6AT3P87O011046").string(), "", false};
  EXPECT_FALSE(SendmailQueue::remove(gone).ok());
}

}  // namespace
}  // namespace etrn

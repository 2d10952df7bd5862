#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace strata {
namespace {

std::string contents_of(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(AtomicFile, AppearsOnlyAtCommit) {
  TempDir dir("strata-atomic");
  std::string target = dir.path() + "/out";
  {
    AtomicFile file(target);
    write_all(file.fd(), "partial", target);
    EXPECT_FALSE(path_exists(target));
  }
  EXPECT_FALSE(path_exists(target));
  AtomicFile file(target);
  write_all(file.fd(), "whole", target);
  file.commit();
  EXPECT_EQ(read_file(target), "whole");
}

TEST(AtomicFile, ASymlinkKeepsPointingAtTheReplacedFile) {
  TempDir dir("strata-atomic");
  write_file(dir.path() + "/real", "old");
  ASSERT_EQ(::symlink("real", (dir.path() + "/link").c_str()), 0);
  AtomicFile file(dir.path() + "/link");
  write_all(file.fd(), "new", "link");
  file.commit();
  struct stat st;
  ASSERT_EQ(::lstat((dir.path() + "/link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(read_file(dir.path() + "/real"), "new");
}

// /proc/self/fd/N names an open fd: the bytes go through it at commit, nothing is renamed.
TEST(AtomicFile, AnOwnFdPathIsWrittenThrough) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  {
    AtomicFile file("/proc/self/fd/" + std::to_string(write_end.get()));
    EXPECT_TRUE(file.is_stream());
    write_all(file.fd(), "through", "the pipe");
    file.commit();
  }
  write_end.reset();
  EXPECT_EQ(contents_of(read_end.get()), "through");
}

TEST(AtomicFile, AFifoStaysAFifo) {
  TempDir dir("strata-atomic");
  std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Fd reader(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK));  // so that opening to write does not wait
  ASSERT_TRUE(reader);
  {
    AtomicFile file(fifo);
    write_all(file.fd(), "bytes", fifo);
    file.commit();
  }
  ::fcntl(reader.get(), F_SETFL, 0);
  EXPECT_EQ(contents_of(reader.get()), "bytes");
  struct stat st;
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST(AtomicFile, NotCommittedSendsNothingToAStream) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  {
    AtomicFile file = AtomicFile::to_stream(write_end.get(), "the pipe");
    write_all(file.fd(), "half", "the pipe");
  }
  write_end.reset();
  EXPECT_EQ(contents_of(read_end.get()), "");
}

TEST(AtomicFile, RefusesDirectoriesAndSockets) {
  TempDir dir("strata-atomic");
  EXPECT_THROW(AtomicFile{dir.path()}, InputError);
  std::string socket_path = dir.path() + "/sock";
  Fd sock(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_THROW(AtomicFile{socket_path}, InputError);
  EXPECT_THROW(AtomicFile{""}, InputError);
  EXPECT_THROW(AtomicFile{dir.path() + "/missing-dir/out"}, InputError);
}

} // namespace
} // namespace strata

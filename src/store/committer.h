// Group commit: concurrent writers share one durable SQLite transaction.
//
// Each Run() call is a "unit": a function that writes rows through the Database. Units that
// arrive while a commit is in flight queue up; the first in the queue becomes the leader,
// runs every queued unit inside one BEGIN IMMEDIATE ... COMMIT (each unit in its own
// SAVEPOINT, so one failing unit does not fail the others), and wakes the rest. Run() returns
// only once the commit is durable (synchronous=FULL), so a caller may acknowledge on OK.
//
// Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "store/sqlite.h"

namespace hokan {

// Told about each batch by the leader, in order, on the leader's thread. The audit log uses
// it to keep its Merkle state in step with what commits.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  // After BEGIN IMMEDIATE, before any unit: reload state that another process may have moved.
  virtual Status OnBatchBegin(Database& db) = 0;
  // Around each unit: a unit that fails is rolled back to its savepoint, and so is the
  // observer's state.
  virtual void OnUnitBegin() = 0;
  virtual void OnUnitRolledBack() = 0;
  // Last writes of the batch, inside the transaction.
  virtual Status OnBeforeCommit(Database& db) = 0;
  // After COMMIT succeeded or after the whole batch was rolled back.
  virtual void OnBatchEnd(bool committed) = 0;
};

class Committer {
 public:
  using Unit = std::function<Status(Database&)>;

  // `db` is the write connection and must outlive the committer. `db_mu` serialises every
  // use of `db`; the leader holds it for the whole batch.
  Committer(Database& db, Mutex& db_mu, std::size_t max_batch = 256);

  // Not thread-safe; call before the first Run().
  void AddObserver(CommitObserver* observer);

  // Runs `unit` in a shared transaction and returns its status once durable. A unit's own
  // error is returned as is (its writes are rolled back); a failed COMMIT fails every unit
  // of the batch.
  Status Run(const Unit& unit) HK_EXCLUDES(queue_mu_);

  // Batches committed so far and units they held (for benchmarks).
  std::uint64_t batches() const;
  std::uint64_t units() const;

 private:
  struct Writer {
    const Unit* unit;
    Status status;
    bool done = false;
    CondVar cv;
  };
  void RunBatch(const std::vector<Writer*>& batch);

  Database& db_;
  Mutex& db_mu_;
  const std::size_t max_batch_;
  std::vector<CommitObserver*> observers_;

  mutable Mutex queue_mu_;
  std::deque<Writer*> queue_ HK_GUARDED_BY(queue_mu_);
  std::uint64_t batches_ HK_GUARDED_BY(queue_mu_) = 0;
  std::uint64_t units_ HK_GUARDED_BY(queue_mu_) = 0;
};

}  // namespace hokan

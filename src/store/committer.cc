#include "store/committer.h"

namespace hokan {

Committer::Committer(Database& db, Mutex& db_mu, std::size_t max_batch)
    : db_(db), db_mu_(db_mu), max_batch_(max_batch) {}

void Committer::AddObserver(CommitObserver* observer) { observers_.push_back(observer); }

Status Committer::Run(const Unit& unit) {
  Writer w;
  w.unit = &unit;
  std::vector<Writer*> batch;
  {
    MutexLock lock(queue_mu_);
    queue_.push_back(&w);
    while (!w.done && queue_.front() != &w) w.cv.Wait(queue_mu_);
    if (w.done) return w.status;
    // Leader: take everything queued so far (up to the limit) into this batch.
    for (Writer* q : queue_) {
      if (batch.size() == max_batch_) break;
      batch.push_back(q);
    }
  }

  RunBatch(batch);

  MutexLock lock(queue_mu_);
  for (Writer* q : batch) {
    queue_.pop_front();
    if (q != &w) {
      q->done = true;
      q->cv.Signal();
    }
  }
  ++batches_;
  units_ += batch.size();
  if (!queue_.empty()) queue_.front()->cv.Signal();
  return w.status;
}

void Committer::RunBatch(const std::vector<Writer*>& batch) {
  MutexLock db_lock(db_mu_);
  Status begin = db_.Exec("BEGIN IMMEDIATE");
  for (CommitObserver* o : observers_) {
    if (!begin.ok()) break;
    begin = o->OnBatchBegin(db_);
  }
  if (!begin.ok()) {
    (void)db_.Exec("ROLLBACK");
    for (CommitObserver* o : observers_) o->OnBatchEnd(false);
    for (Writer* q : batch) q->status = begin;
    return;
  }

  bool any_ok = false;
  for (Writer* q : batch) {
    Status st = db_.Exec("SAVEPOINT unit");
    if (st.ok()) {
      for (CommitObserver* o : observers_) o->OnUnitBegin();
      st = (*q->unit)(db_);
      if (st.ok()) {
        st = db_.Exec("RELEASE unit");
      } else {
        // The unit's own error stands; its writes and the observers' state go back.
        (void)db_.Exec("ROLLBACK TO unit");
        (void)db_.Exec("RELEASE unit");
        for (CommitObserver* o : observers_) o->OnUnitRolledBack();
      }
    }
    q->status = st;
    any_ok = any_ok || st.ok();
  }

  Status commit = OkStatus();
  db_.ResetStatements();  // A unit's half-stepped query must not hold the transaction.
  if (any_ok) {
    for (CommitObserver* o : observers_) {
      commit = o->OnBeforeCommit(db_);
      if (!commit.ok()) break;
    }
    if (commit.ok()) commit = db_.Exec("COMMIT");
  } else {
    commit = db_.Exec("ROLLBACK");
  }
  if (!commit.ok()) {
    (void)db_.Exec("ROLLBACK");
    for (Writer* q : batch) {
      if (q->status.ok()) q->status = commit.WithContext("commit");
    }
  }
  for (CommitObserver* o : observers_) o->OnBatchEnd(any_ok && commit.ok());
}

std::uint64_t Committer::batches() const {
  MutexLock lock(queue_mu_);
  return batches_;
}

std::uint64_t Committer::units() const {
  MutexLock lock(queue_mu_);
  return units_;
}

}  // namespace hokan

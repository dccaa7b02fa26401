#pragma once
// The gateway's command-line verbs, callable from main and from tests.
#include <cstddef>
#include <iosfwd>
#include <string>

namespace gw::app {

// `gateway serve`: runs until SIGINT/SIGTERM. Returns the process exit code.
//
// Thread model of a serving gateway:
// - 2 I/O threads (`server.io_threads`) run Asio: one strand per
//   connection; the acceptor, the signal sets and the drain timer share
//   the accept strand. They parse and write HTTP and never block; they
//   also run each request's first part (gateway::handle_first: checks,
//   rate limits, /healthz, and a USSD menu move answered from the session
//   in memory, which only try_locks it).
// - the handler pool (`server.handler_threads`, default 16 per core, 32 to
//   64) runs the rest of a request, which may block on the store; a
//   SIGHUP reload runs there too. Argon2id takes at most half the cores.
// - `store-writer`: owns the SQLite write connection; every write waits for
//   its group commit. Reads use up to 8 reader connections of their own.
// - outbox lanes: one thread per SMS channel and one for partner webhooks;
//   `background`: the named periodic jobs (app/background.hpp: session
//   flush, idle sessions, referral sweep, retention).
// - SMPP: one thread for every operator link (Asio), per link one thread
//   answering USSD batches with a pool of 16 hop threads.
// On a USSD hop no lock shared between sessions is held across a store
// call, only the session's own (see service/ussd_service.hpp for the
// order); routing a new case takes the referral lock to decide, not to
// write. Partners' and operators' actions on referrals are still
// serialised by that lock, store calls included. The store's locks are
// innermost.
int serve(const std::string& config_path);

// `gateway check`: validates config and menus; prints file:line problems
// and a per-screen page count; non-zero when anything is wrong.
int check(const std::string& config_path, std::ostream& out);

struct simulate_options {
    std::string config_path;
    std::string phone = "+996700000001";
    std::string store_path = ":memory:";  // the simulator never touches real data by default
};

struct add_operator_options {
    std::string config_path;
    std::string username;
    std::string display_name;
    std::string role = "operator";
};

// `gateway operator add`: creates a console account (the first supervisor
// is made this way). The password comes from GATEWAY_OPERATOR_PASSWORD or
// the first line of `in`; it is never taken from the command line.
int add_operator(const add_operator_options& options, std::istream& in, std::ostream& out);

// `gateway preview`: every screen, page by page, as a phone shows it (USSD
// and SMS, each language), with ids, page counts and REVIEW notes, written
// to `output` as one HTML file for reviewers. Non-zero when the menus
// have errors (the file is still written, to show them).
int preview(const std::string& config_path, const std::string& output, std::ostream& out);

// `gateway simulate`: walks the menus in a terminal as a phone would.
int simulate(const simulate_options& options, std::istream& in, std::ostream& out);

struct backup_options {
    std::string config_path;
    std::string to;         // a new file; never overwritten
    int step_pages = 1024;  // pages copied per step ...
    int pause_ms = 5;       // ... and the pause between steps
};

// `gateway backup`: a consistent copy of the SQLite database, taken while
// the gateway runs (store::backup_sqlite_store), created 0600 and checked
// (integrity, schema version). The copy is sealed like the database; the
// data key is never written, and `to` may be neither the key file nor
// beside it. Restoring is: stop the gateway, copy the file into place
// (removing the old -wal and -shm), start it with the same key.
int backup(const backup_options& options, std::ostream& out);

struct rotate_key_options {
    std::string config_path;
    std::string new_key_file;  // the new key (64 hex characters) on the first line, or
    std::string new_key_env;   // the environment variable that holds it
    std::size_t batch_rows = 500;
};

// `gateway rotate-key`: re-seals the database under a new data key
// (store::rotate_sqlite_data_key), in batches that survive a crash: run it
// again with the same keys and it goes on. The gateway must be stopped (the
// rotation takes the database to itself and says so otherwise). The config
// keeps the old key until it has finished; then the new key goes where the
// config reads it.
int rotate_key(const rotate_key_options& options, std::ostream& out);

}  // namespace gw::app

//! The shared emulator: the landing zone behind one lock together with the faults, telemetry and
//! settings that can change at run time. [`Emulator::with`] runs a change under the lock, then
//! saves the state file if the landing zone changed and starts the background work the change
//! scheduled (record phases, account closures).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tracing::error;

use crate::faults::Faults;
use crate::persistence;
use crate::state::{AccountState, LandingZone};
use crate::telemetry::{EventDetail, Telemetry};
use crate::timestamp::Timestamp;
use crate::{organizations, provisioning};

/// The maximum duration a setting or fault accepts, in seconds (about 11.6 days). It keeps
/// `Duration::from_secs_f64` far from overflowing.
pub const MAX_DURATION_SECONDS: f64 = 1_000_000.0;

/// Returns `true` if `seconds` is a usable duration: finite, not negative, at most
/// [`MAX_DURATION_SECONDS`].
pub fn is_valid_duration(seconds: f64) -> bool {
    seconds.is_finite() && (0.0..=MAX_DURATION_SECONDS).contains(&seconds)
}

/// Settings that start from the command line and may be changed through the fault endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// How long each Account Factory operation takes, in seconds.
    pub provision_seconds: f64,
    /// How long a closed account stays `PENDING_CLOSURE`, in seconds.
    pub close_seconds: f64,
    pub max_concurrent_operations: usize,
}

impl Settings {
    /// When a new record leaves `CREATED`: a tenth of the operation's time, at most one second,
    /// so quick checks (OU, email, the concurrency limit) fail early as they do on AWS.
    pub fn start_delay(&self) -> Duration {
        Duration::from_secs_f64((self.provision_seconds / 10.0).min(1.0))
    }

    pub fn finish_delay(&self) -> Duration {
        Duration::from_secs_f64(self.provision_seconds)
    }
}

/// Background work that a change asked for, started once the lock is released.
#[derive(Clone, Debug, PartialEq)]
pub enum Task {
    /// Move a record through its phases.
    DriveRecord {
        record_id: String,
        start_after: Duration,
        finish_after: Duration,
    },
    /// Move an account from `PENDING_CLOSURE` to `SUSPENDED`.
    FinishClosure { account_id: String, after: Duration },
}

/// Everything behind the lock.
#[derive(Debug)]
pub struct Runtime {
    pub zone: LandingZone,
    pub faults: Faults,
    pub telemetry: Telemetry,
    pub settings: Settings,
    /// Increases on every reset, so background work started before a reset does nothing after it.
    generation: u64,
    zone_changed: bool,
    scheduled: Vec<Task>,
}

impl Runtime {
    pub fn new(zone: LandingZone, settings: Settings) -> Self {
        Self {
            zone,
            faults: Faults::default(),
            telemetry: Telemetry::default(),
            settings,
            generation: 0,
            zone_changed: false,
            scheduled: Vec::new(),
        }
    }

    /// Notes that the landing zone changed, so it is saved when the lock is released.
    pub fn mark_changed(&mut self) {
        self.zone_changed = true;
    }

    pub fn schedule(&mut self, task: Task) {
        self.scheduled.push(task);
    }

    /// Schedules the phases of a record with the current timing settings.
    pub fn schedule_record(&mut self, record_id: &str) {
        let task = Task::DriveRecord {
            record_id: record_id.to_string(),
            start_after: self.settings.start_delay(),
            finish_after: self.settings.finish_delay(),
        };
        self.schedule(task);
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn log(&mut self, detail: EventDetail) {
        self.telemetry.record(Timestamp::now(), detail);
    }

    /// Replaces the landing zone and clears faults, telemetry and settings, as after a start.
    pub fn reset(&mut self, zone: LandingZone, settings: Settings) {
        self.zone = zone;
        self.faults = Faults::default();
        self.telemetry = Telemetry::default();
        self.settings = settings;
        self.generation += 1;
        self.scheduled.clear();
        self.mark_changed();
        self.schedule_unfinished_work();
    }

    /// Schedules work that a loaded or seeded state left unfinished: running records and accounts
    /// still pending closure. Each starts its full duration again.
    pub fn schedule_unfinished_work(&mut self) {
        let running: Vec<String> = self
            .zone
            .records
            .iter()
            .filter(|record| record.pending.is_some() && record.is_running())
            .map(|record| record.id.clone())
            .collect();
        for record_id in running {
            self.schedule_record(&record_id);
        }
        let closing: Vec<String> = self
            .zone
            .accounts
            .iter()
            .filter(|account| account.state == AccountState::PendingClosure)
            .map(|account| account.id.clone())
            .collect();
        for account_id in closing {
            let after = Duration::from_secs_f64(self.settings.close_seconds);
            self.schedule(Task::FinishClosure { account_id, after });
        }
    }
}

/// A cheap handle on the shared emulator.
#[derive(Clone, Debug)]
pub struct Emulator {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    runtime: Mutex<Runtime>,
    initial_settings: Settings,
    state_file: Option<PathBuf>,
}

impl Emulator {
    pub fn new(zone: LandingZone, settings: Settings, state_file: Option<PathBuf>) -> Self {
        let runtime = Runtime::new(zone, settings.clone());
        Self {
            shared: Arc::new(Shared {
                runtime: Mutex::new(runtime),
                initial_settings: settings,
                state_file,
            }),
        }
    }

    pub fn initial_settings(&self) -> &Settings {
        &self.shared.initial_settings
    }

    fn lock(&self) -> MutexGuard<'_, Runtime> {
        // A panic while the lock was held leaves a state that is still well formed data, so
        // serving on is better than failing every later request.
        self.shared
            .runtime
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `change` under the lock, saves the state file if the zone changed, and starts the
    /// scheduled background work. Must be called inside a Tokio runtime.
    pub fn with<T>(&self, change: impl FnOnce(&mut Runtime) -> T) -> T {
        let (result, tasks, generation) = {
            let mut runtime = self.lock();
            let result = change(&mut runtime);
            if runtime.zone_changed {
                runtime.zone_changed = false;
                self.save(&runtime.zone);
            }
            let tasks = std::mem::take(&mut runtime.scheduled);
            (result, tasks, runtime.generation)
        };
        for task in tasks {
            self.spawn(task, generation);
        }
        result
    }

    /// Schedules what the initial state left unfinished.
    pub fn resume(&self) {
        self.with(Runtime::schedule_unfinished_work);
    }

    fn save(&self, zone: &LandingZone) {
        let Some(path) = &self.shared.state_file else {
            return;
        };
        if let Err(failure) = persistence::save(path, zone) {
            error!(error = %failure, "failed to save the state file; the emulator keeps serving from memory");
        }
    }

    fn spawn(&self, task: Task, generation: u64) {
        let emulator = self.clone();
        match task {
            Task::DriveRecord {
                record_id,
                start_after,
                finish_after,
            } => {
                tokio::spawn(provisioning::drive_record(
                    emulator,
                    generation,
                    record_id,
                    start_after,
                    finish_after,
                ));
            }
            Task::FinishClosure { account_id, after } => {
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    emulator.with(|runtime| {
                        if runtime.generation == generation {
                            organizations::finish_closure(runtime, &account_id);
                        }
                    });
                });
            }
        }
    }
}

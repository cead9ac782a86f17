//! `torch.optim.swa_utils.AveragedModel` for any Burn module: SWA and EMA, `use_buffers`, timm's
//! EMA decay warm-up, and when to average.

use serde::{Deserialize, Serialize};

use crate::burn::module::Module;
use crate::burn::tensor::Tensor;

use super::error::{check, AveragingError};
use super::tensors::{leaves, lerp, rewrite, same_layout, Leaf};

/// How the average weighs the models it sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AveragingKind {
    /// Stochastic Weight Averaging (Izmailov et al. 2018): the equal-weight mean of every model
    /// averaged, PyTorch's default `AveragedModel` (`get_swa_multi_avg_fn`).
    Swa,
    /// Exponential moving average: `average = decay * average + (1 - decay) * model`, PyTorch's
    /// `get_ema_multi_avg_fn(decay)`.
    Ema,
}

/// timm's EMA decay warm-up (`ModelEmaV3(use_warmup=True, ...)`): at the `t`-th averaging update
/// the decay is `clamp(1 - (1 + (t - 1) / warmup_gamma)^-warmup_power, min_decay, decay)`, and
/// 0 (a copy) at the first, so the average is not anchored to the initialization.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmaWarmup {
    /// timm's `warmup_gamma` (default 1.0), in averaging updates; `> 0`.
    #[serde(default = "one")]
    pub warmup_gamma: f64,
    /// timm's `warmup_power` (default 2/3); `> 0`.
    #[serde(default = "two_thirds")]
    pub warmup_power: f64,
    /// timm's `min_decay` (default 0.0), in `[0, 1]`.
    #[serde(default)]
    pub min_decay: f64,
}

fn one() -> f64 {
    1.0
}

fn two_thirds() -> f64 {
    2.0 / 3.0
}

impl Default for EmaWarmup {
    fn default() -> Self {
        Self {
            warmup_gamma: 1.0,
            warmup_power: 2.0 / 3.0,
            min_decay: 0.0,
        }
    }
}

/// The settings of an [`AveragedModel`], PyTorch's names (`use_buffers`, `decay`) and timm's
/// (`warmup_gamma`, `warmup_power`, `min_decay`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AveragedModelConfig {
    /// `swa` (equal weights) or `ema`.
    pub kind: AveragingKind,
    /// EMA's decay per averaging update (PyTorch's `get_ema_multi_avg_fn` default 0.999), in
    /// `[0, 1]`; ignored by SWA.
    #[serde(default = "default_decay")]
    pub decay: f64,
    /// PyTorch's `use_buffers` (default false): average the running statistics (BatchNorm's
    /// `running_mean`/`running_var`) too; when false they are copied from the model at each
    /// averaging update, as PyTorch keeps them in sync; recompute them with
    /// [`update_bn`](super::update_bn) before evaluating.
    #[serde(default)]
    pub use_buffers: bool,
    /// The first optimizer update (1-based) after which the model is averaged (default 1).
    #[serde(default = "one_u64")]
    pub start_update: u64,
    /// Average after every `every`-th optimizer update from `start_update` on (default 1; the
    /// updates per epoch for once an epoch).
    #[serde(default = "one_u64")]
    pub every: u64,
    /// timm's EMA decay warm-up (EMA only); none by default.
    #[serde(default)]
    pub ema_warmup: Option<EmaWarmup>,
}

fn default_decay() -> f64 {
    0.999
}

fn one_u64() -> u64 {
    1
}

impl AveragedModelConfig {
    /// `kind` with PyTorch's defaults: decay 0.999, `use_buffers = false`, from update 1, every update.
    pub fn new(kind: AveragingKind) -> Self {
        Self {
            kind,
            decay: default_decay(),
            use_buffers: false,
            start_update: 1,
            every: 1,
            ema_warmup: None,
        }
    }

    /// EMA's decay, in `[0, 1]`.
    pub fn with_decay(mut self, decay: f64) -> Self {
        self.decay = decay;
        self
    }

    /// PyTorch's `use_buffers`.
    pub fn with_use_buffers(mut self, use_buffers: bool) -> Self {
        self.use_buffers = use_buffers;
        self
    }

    /// The first optimizer update (1-based) averaged.
    pub fn with_start_update(mut self, start_update: u64) -> Self {
        self.start_update = start_update;
        self
    }

    /// Average every `every` optimizer updates.
    pub fn with_every(mut self, every: u64) -> Self {
        self.every = every;
        self
    }

    /// timm's EMA decay warm-up.
    pub fn with_ema_warmup(mut self, warmup: EmaWarmup) -> Self {
        self.ema_warmup = Some(warmup);
        self
    }

    /// Checks every setting. Errors: [`AveragingError::Setting`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), AveragingError> {
        let unit = "a number in [0, 1]";
        check((0.0..=1.0).contains(&self.decay), "decay", self.decay, unit)?;
        check(
            self.start_update >= 1,
            "start_update",
            self.start_update,
            "an optimizer update >= 1",
        )?;
        check(
            self.every >= 1,
            "every",
            self.every,
            "a number of optimizer updates >= 1",
        )?;
        if let Some(w) = &self.ema_warmup {
            let positive = "a finite number > 0";
            check(
                w.warmup_gamma > 0.0 && w.warmup_gamma.is_finite(),
                "warmup_gamma",
                w.warmup_gamma,
                positive,
            )?;
            check(
                w.warmup_power > 0.0 && w.warmup_power.is_finite(),
                "warmup_power",
                w.warmup_power,
                positive,
            )?;
            check((0.0..=1.0).contains(&w.min_decay), "min_decay", w.min_decay, unit)?;
        }
        Ok(())
    }

    /// Whether the model is averaged after optimizer update `update` (1-based).
    pub fn averages_after(&self, update: u64) -> bool {
        update >= self.start_update && (update - self.start_update).is_multiple_of(self.every)
    }

    /// The weight of the model in the `t`-th averaging update (1-based; 1 at the first: a copy):
    /// SWA `1 / t`, EMA `1 - decay` (timm's warm-up decay where set).
    pub fn weight(&self, t: u64) -> f64 {
        if t <= 1 {
            return 1.0;
        }
        match self.kind {
            AveragingKind::Swa => 1.0 / t as f64,
            AveragingKind::Ema => 1.0 - self.ema_decay(t),
        }
    }

    /// EMA's decay at the `t`-th averaging update: `decay`, or timm's `ModelEmaV3.get_decay(t)`.
    fn ema_decay(&self, t: u64) -> f64 {
        match &self.ema_warmup {
            None => self.decay,
            Some(w) => {
                let step = (t - 1) as f64;
                let warm = 1.0 - (1.0 + step / w.warmup_gamma).powf(-w.warmup_power);
                warm.min(self.decay).max(w.min_decay)
            }
        }
    }

    /// One line naming this setup, kept with the average so a record from another setup is
    /// refused by name.
    pub fn fingerprint(&self) -> String {
        let kind = match self.kind {
            AveragingKind::Swa => "swa".to_string(),
            AveragingKind::Ema => format!("ema(decay={})", self.decay),
        };
        let warmup = self
            .ema_warmup
            .filter(|_| self.kind == AveragingKind::Ema)
            .map(|w| {
                format!(
                    ", warmup(gamma={}, power={}, min_decay={})",
                    w.warmup_gamma, w.warmup_power, w.min_decay
                )
            })
            .unwrap_or_default();
        format!(
            "{kind}{warmup}, use_buffers={}, start_update={}, every={}",
            self.use_buffers, self.start_update, self.every
        )
    }
}

/// `torch.optim.swa_utils.AveragedModel`: a detached copy of a Burn module whose weights are the
/// SWA or EMA average of the models given to [`update_parameters`](Self::update_parameters).
///
/// The first update copies the model (PyTorch's `n_averaged == 0`); later ones
/// `average = lerp(average, model, w)` with PyTorch's `lerp` and `w` from
/// [`AveragedModelConfig::weight`]. Running statistics (fields named `running_*`, as Burn's
/// `BatchNorm` has) are averaged with `use_buffers`, copied from the model without. The copy
/// holds no autodiff graph and lives where the model's tensors live (its device, its float type).
#[derive(Clone, Debug)]
pub struct AveragedModel<M: Module> {
    config: AveragedModelConfig,
    module: M,
    layout: Vec<Leaf>,
    n_averaged: u64,
}

impl<M: Module> AveragedModel<M> {
    /// A copy of `model`, nothing averaged yet. Errors: a setting out of range.
    pub fn new(config: AveragedModelConfig, model: &M) -> Result<Self, AveragingError> {
        config.validate()?;
        let module = model.valid();
        let layout = leaves(&module);
        Ok(Self {
            config,
            module,
            layout,
            n_averaged: 0,
        })
    }

    /// An average restored from a checkpoint: the averaged module and PyTorch's `n_averaged`.
    pub fn from_parts(config: AveragedModelConfig, average: M, n_averaged: u64) -> Result<Self, AveragingError> {
        let mut restored = Self::new(config, &average)?;
        restored.n_averaged = n_averaged;
        Ok(restored)
    }

    /// Averages `model` in if the config averages after optimizer update `update` (1-based);
    /// returns whether it did. Errors: `model` is not the module this average was made from.
    pub fn after_update(&mut self, update: u64, model: &M) -> Result<bool, AveragingError> {
        if !self.config.averages_after(update) {
            return Ok(false);
        }
        self.update_parameters(model)?;
        Ok(true)
    }

    /// PyTorch's `update_parameters(model)`: one averaging update, now.
    /// Errors: `model` is not the module this average was made from.
    pub fn update_parameters(&mut self, model: &M) -> Result<(), AveragingError> {
        let current = leaves(model);
        same_layout(&self.layout, &current)?;
        let w = self.config.weight(self.n_averaged + 1);
        let averaged = leaves(&self.module);
        let values: Vec<Option<Tensor<1>>> = averaged
            .into_iter()
            .zip(current)
            .map(|(avg, cur)| {
                let copy = self.n_averaged == 0 || (cur.buffer && !self.config.use_buffers);
                let value = cur.value.to_device(&avg.value.device());
                Some(if copy { value } else { lerp(avg.value, value, w) })
            })
            .collect();
        self.module = rewrite(self.module.clone(), &values).valid();
        self.n_averaged += 1;
        Ok(())
    }

    /// PyTorch's `n_averaged`: how many models were averaged in.
    pub fn n_averaged(&self) -> u64 {
        self.n_averaged
    }

    /// The settings.
    pub fn config(&self) -> &AveragedModelConfig {
        &self.config
    }

    /// The averaged module, for evaluation (`Module::valid`: no autodiff); a fresh value, so a
    /// train-mode forward on it cannot change the average's running statistics.
    pub fn model(&self) -> M {
        self.module.valid()
    }

    /// The averaged module, consumed.
    pub fn into_model(self) -> M {
        self.module
    }
}

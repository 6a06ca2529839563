//! The node's settings rules as the UI reads them: exported into `ui/src/bindings.ts` as
//! `SETTINGS_RULES` (like `DEFAULT_SETTINGS`), so the form's ranges and schedule grammar
//! come from the node's own tables, never from a hand copy.

use idleshare_node::policy::clock::MINUTES_PER_DAY;
use idleshare_node::policy::schedule::DAY_NAMES;
use idleshare_node::settings::{NOT_ABOVE_RULES, RANGE_RULES};
use serde::Serialize;

/// One numeric setting's allowed range (the node's `RangeRule`).
#[derive(Debug, Clone, Serialize)]
pub struct RangeRuleView {
    /// The file's key, e.g. `policy.input_idle_secs`.
    pub key: String,
    /// Smallest allowed value.
    pub min: u64,
    /// Largest allowed value.
    pub max: u64,
    /// Whether the field may be empty (`null`).
    pub optional: bool,
}

/// One setting that must not be above another (the node's `NotAboveRule`).
#[derive(Debug, Clone, Serialize)]
pub struct NotAboveRuleView {
    /// The bounded key.
    pub key: String,
    /// The key that bounds it.
    pub bound_key: String,
}

/// What a schedule window's text is made of.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleRulesView {
    /// Day names as written in a window, Monday first.
    pub day_names: Vec<String>,
    /// The largest time of day in minutes (24:00), allowed only as an end.
    pub minutes_per_day: u16,
}

/// Every rule the node checks its settings against.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsRules {
    /// Numeric ranges, in the file's order.
    pub ranges: Vec<RangeRuleView>,
    /// Settings bounded by others.
    pub not_above: Vec<NotAboveRuleView>,
    /// The schedule grammar's parts.
    pub schedule: ScheduleRulesView,
}

/// The node's rules, read from its tables.
pub fn settings_rules() -> SettingsRules {
    SettingsRules {
        ranges: RANGE_RULES
            .iter()
            .map(|rule| RangeRuleView {
                key: rule.key.to_owned(),
                min: rule.min,
                max: rule.max,
                optional: rule.optional,
            })
            .collect(),
        not_above: NOT_ABOVE_RULES
            .iter()
            .map(|rule| NotAboveRuleView {
                key: rule.key.to_owned(),
                bound_key: rule.bound_key.to_owned(),
            })
            .collect(),
        schedule: ScheduleRulesView {
            day_names: DAY_NAMES.iter().map(|day| (*day).to_owned()).collect(),
            minutes_per_day: MINUTES_PER_DAY,
        },
    }
}

#[cfg(test)]
mod tests {
    use idleshare_node::policy::schedule::ScheduleWindow;
    use idleshare_node::settings::Settings;
    use serde_json::Value;

    use super::*;
    use crate::settings_view::SettingsView;

    /// The exported table as the UI receives it (JSON, as in the bindings).
    fn exported() -> Value {
        serde_json::to_value(settings_rules()).unwrap()
    }

    /// The default settings with `key` (`section.field`) set to `value`, through JSON as
    /// the form sends them.
    fn form_with(key: &str, value: Value) -> SettingsView {
        let mut json = serde_json::to_value(SettingsView::from(&Settings::default())).unwrap();
        let (section, field) = key.split_once('.').unwrap();
        json[section][field] = value;
        serde_json::from_value(json).unwrap()
    }

    fn problem_keys(view: &SettingsView) -> Vec<String> {
        view.problems().into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn every_exported_range_is_what_the_validator_enforces_at_both_ends() {
        let rules = exported();
        let ranges = rules["ranges"].as_array().unwrap();
        assert_eq!(ranges.len(), RANGE_RULES.len());
        for rule in ranges {
            let key = rule["key"].as_str().unwrap();
            let (min, max) = (rule["min"].as_u64().unwrap(), rule["max"].as_u64().unwrap());
            let form = |value: Value| {
                // Keep the hysteresis rule out of the way (resume at 0, pause at 100) unless
                // the key under test is one of them.
                let mut view = form_with(key, value.clone());
                view.policy.owner_cpu_resume_percent = 0;
                view.policy.owner_cpu_pause_percent = 100;
                let mut json = serde_json::to_value(view).unwrap();
                let (section, field) = key.split_once('.').unwrap();
                json[section][field] = value;
                serde_json::from_value::<SettingsView>(json).unwrap()
            };
            for inside in [min, max] {
                let view = form(inside.into());
                assert!(problem_keys(&view).is_empty(), "{key} = {inside}");
            }
            for outside in [min.checked_sub(1), max.checked_add(1)]
                .into_iter()
                .flatten()
            {
                let view = form(outside.into());
                assert_eq!(problem_keys(&view), [key], "{key} = {outside}");
            }
            let optional = rule["optional"].as_bool().unwrap();
            let empty = serde_json::from_value::<SettingsView>({
                let mut json =
                    serde_json::to_value(SettingsView::from(&Settings::default())).unwrap();
                let (section, field) = key.split_once('.').unwrap();
                json[section][field] = Value::Null;
                json
            });
            assert_eq!(empty.is_ok(), optional, "{key} may be empty: {optional}");
        }
    }

    /// The value at `key` in `view`, as JSON.
    fn view_value(view: &SettingsView, key: &str) -> Value {
        let json = serde_json::to_value(view).unwrap();
        let (section, field) = key.split_once('.').unwrap();
        json[section][field].clone()
    }

    #[test]
    fn every_exported_not_above_rule_is_enforced_at_its_key() {
        for rule in exported()["not_above"].as_array().unwrap() {
            let (key, bound_key) = (
                rule["key"].as_str().unwrap(),
                rule["bound_key"].as_str().unwrap(),
            );
            let bound = view_value(&SettingsView::from(&Settings::default()), bound_key);
            let bound = bound.as_u64().unwrap();
            assert!(problem_keys(&form_with(key, bound.into())).is_empty());
            assert_eq!(problem_keys(&form_with(key, (bound + 1).into())), [key]);
        }
    }

    #[test]
    fn the_exported_schedule_parts_are_what_the_parser_accepts() {
        let rules = exported();
        let schedule = &rules["schedule"];
        for day in schedule["day_names"].as_array().unwrap() {
            let day = day.as_str().unwrap();
            assert!(ScheduleWindow::parse(&format!("{day} 10:00-11:00")).is_ok());
        }
        let end = schedule["minutes_per_day"].as_u64().unwrap();
        let time = |minute: u64| format!("{:02}:{:02}", minute / 60, minute % 60);
        assert!(ScheduleWindow::parse(&format!("mon 10:00-{}", time(end))).is_ok());
        assert!(ScheduleWindow::parse(&format!("mon 10:00-{}", time(end + 1))).is_err());
        assert!(ScheduleWindow::parse(&format!("mon {}-10:00", time(end))).is_err());
    }
}

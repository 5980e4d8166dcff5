//! The people directory: a CTO, eight teams of five led by a team lead, and a handful of leavers.

use chrono::{Duration, NaiveDate};
use keyward_model::{Person, PersonStatus};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::pools::{DOMAIN, FIRST_NAMES, LAST_NAMES, TEAM_SIZE, TEAMS};

/// Draws the directory: the CTO first, then each team's lead followed by its members.
pub(crate) fn generate(rng: &mut impl Rng, today: NaiveDate) -> Vec<Person> {
    let mut firsts = FIRST_NAMES.to_vec();
    let mut lasts = LAST_NAMES.to_vec();
    firsts.shuffle(rng);
    lasts.shuffle(rng);
    // Distinct given names make every `first.last` address distinct.
    let mut names = firsts.into_iter().zip(lasts);
    let mut next = || {
        let (first, last) = names.next().unwrap_or(("alex", "doe"));
        (
            format!("{first}.{last}@{DOMAIN}"),
            format!("{} {}", capitalise(first), capitalise(last)),
        )
    };

    let mut people = Vec::with_capacity(1 + TEAMS.len() * TEAM_SIZE);
    let (cto_email, cto_name) = next();
    people.push(Person {
        email: cto_email.clone(),
        name: cto_name,
        team: None,
        manager_email: None,
        status: PersonStatus::Active,
        departed_on: None,
    });
    let mut members = Vec::new();
    for team in &TEAMS {
        let (lead_email, lead_name) = next();
        people.push(Person {
            email: lead_email.clone(),
            name: lead_name,
            team: Some(team.name.to_owned()),
            manager_email: Some(cto_email.clone()),
            status: PersonStatus::Active,
            departed_on: None,
        });
        for _ in 1..TEAM_SIZE {
            let (email, name) = next();
            members.push(people.len());
            people.push(Person {
                email,
                name,
                team: Some(team.name.to_owned()),
                manager_email: Some(lead_email.clone()),
                status: PersonStatus::Active,
                departed_on: None,
            });
        }
    }

    // Leads stay, so every leaver's NHIs have someone to fall back to.
    let leavers = rng.gen_range(5..=6);
    members.shuffle(rng);
    for &i in members.iter().take(leavers) {
        if let Some(p) = people.get_mut(i) {
            p.status = PersonStatus::Departed;
            p.departed_on = Some(today - Duration::days(rng.gen_range(30..=200)));
        }
    }
    people
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// Renders people as the CSV `keyward people import` reads, header included.
pub fn people_csv(people: &[Person]) -> String {
    let mut out = String::with_capacity(64 * (people.len() + 1));
    out.push_str("email,name,team,manager_email,status,departed_on\n");
    for p in people {
        let departed = p.departed_on.map(|d| d.to_string()).unwrap_or_default();
        let cells = [
            p.email.as_str(),
            p.name.as_str(),
            p.team.as_deref().unwrap_or(""),
            p.manager_email.as_deref().unwrap_or(""),
            p.status.as_str(),
            departed.as_str(),
        ];
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_cell(&mut out, cell);
        }
        out.push('\n');
    }
    out
}

/// One CSV cell, quoted when it holds a separator, a quote, a line break or edge spaces (which
/// the reader would otherwise trim).
fn push_cell(out: &mut String, cell: &str) {
    let needs_quotes = cell.contains([',', '"', '\n', '\r']) || cell.trim() != cell;
    if needs_quotes {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
    }

    #[test]
    fn a_cto_leads_eight_teams_of_five() {
        let people = generate(&mut StdRng::seed_from_u64(1), today());
        assert_eq!(people.len(), 41);
        let cto = &people[0];
        assert_eq!(
            (cto.team.as_deref(), cto.manager_email.as_deref()),
            (None, None)
        );
        for team in &TEAMS {
            let members: Vec<_> = people
                .iter()
                .filter(|p| p.team.as_deref() == Some(team.name))
                .collect();
            assert_eq!(members.len(), 5, "{}", team.name);
            assert_eq!(
                members[0].manager_email.as_deref(),
                Some(cto.email.as_str())
            );
            for m in &members[1..] {
                assert_eq!(m.manager_email, Some(members[0].email.clone()));
            }
        }
        let mut emails: Vec<_> = people.iter().map(|p| p.email.as_str()).collect();
        emails.sort_unstable();
        emails.dedup();
        assert_eq!(emails.len(), people.len());
        assert!(people.iter().all(|p| {
            let (local, domain) = p.email.split_once('@').unwrap();
            domain == "example.com" && local.split('.').count() == 2
        }));
    }

    #[test]
    fn five_or_six_people_left_recently() {
        for seed in 0..20 {
            let people = generate(&mut StdRng::seed_from_u64(seed), today());
            let departed: Vec<_> = people
                .iter()
                .filter(|p| p.status == PersonStatus::Departed)
                .collect();
            assert!((5..=6).contains(&departed.len()), "{}", departed.len());
            for p in departed {
                let days = (today() - p.departed_on.unwrap()).num_days();
                assert!((30..=200).contains(&days), "{days}");
            }
            assert!(
                people
                    .iter()
                    .all(|p| { (p.status == PersonStatus::Departed) == p.departed_on.is_some() })
            );
        }
    }

    #[test]
    fn csv_has_the_header_and_quotes_when_needed() {
        let people = generate(&mut StdRng::seed_from_u64(1), today());
        let csv = people_csv(&people);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("email,name,team,manager_email,status,departed_on")
        );
        assert_eq!(lines.count(), people.len());
        let back = keyward_manifest::parse_people_csv("people.csv", &csv).unwrap();
        assert_eq!(back, people);

        let mut odd = people[0].clone();
        odd.name = "Bob \"Bobby\", Jr.".into();
        let back = keyward_manifest::parse_people_csv("p.csv", &people_csv(&[odd.clone()]));
        assert_eq!(back.unwrap(), [odd]);
    }
}

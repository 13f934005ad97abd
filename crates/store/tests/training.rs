//! The Master Trainer Programme's records on SQLite, and on PostgreSQL when
//! `SMARTBORDER_TEST_POSTGRES_URL` names a database: courses with exercises and participants,
//! keys kept once, attempts of one participant apart from another's, certificates that raise a
//! level and never lower it, the programme's secret made once; every write audited.

use smartborder_mtp::certificate::Level;
use smartborder_store::training::{self, Exercise, NewCourse};
use smartborder_store::users::{self, Role};
use smartborder_store::{Store, audit, keys};

const PASSWORD: &str = "a training test password";

async fn account(store: &Store, login: &str, country: &str) -> String {
    users::create(
        store,
        "test",
        login,
        Role::Supervisor,
        Some(country),
        &[],
        PASSWORD,
    )
    .await
    .unwrap()
    .id
}

async fn scenario(url: &str) {
    let store = Store::open(url).await.unwrap();
    // Logins unique to this run: a PostgreSQL database may hold earlier runs.
    let run = keys::random_hex(4);
    let trainer = account(&store, &format!("mt.{run}"), "KZ").await;
    let p1 = account(&store, &format!("p1.{run}"), "KZ").await;
    let p2 = account(&store, &format!("p2.{run}"), "KG").await;
    training::set_person(
        &store,
        "test",
        &trainer,
        "KZ",
        Level::MasterTrainer,
        Some("2026-01-10"),
        Some("2029-01-10"),
        None,
    )
    .await
    .unwrap();
    let me = training::person_of(&store, &trainer)
        .await
        .unwrap()
        .unwrap();
    assert!(me.may_train("2028-12-31") && !me.may_train("2029-01-11"));
    // p2 is a trainer already: a participants' course does not lower them.
    training::set_person(&store, "test", &p2, "KG", Level::Trainer, None, None, None)
        .await
        .unwrap();

    let seed = u64::MAX - 3;
    let course = NewCourse {
        title: "Risk profiling".into(),
        country: "KZ".into(),
        place: "Almaty".into(),
        language: "ru".into(),
        level: Level::Participant,
        starts_on: "2026-11-30".into(),
        ends_on: "2026-12-04".into(),
        exercises: vec![
            Exercise {
                number: 1,
                title: "Imports".into(),
                definition: "kind = \"risk\"".into(),
                seed,
            },
            Exercise {
                number: 2,
                title: "Release times".into(),
                definition: "kind = \"trs\"".into(),
                seed: 7,
            },
        ],
        participants: vec![p1.clone(), p2.clone()],
    };
    let id = training::create_course(&store, "test", &trainer, &course)
        .await
        .unwrap();
    let delivered = training::courses_delivered(&store, &trainer).await.unwrap();
    assert_eq!(delivered.iter().map(|c| &c.id).collect::<Vec<_>>(), [&id]);
    assert_eq!(
        training::courses_attended(&store, &p1).await.unwrap().len(),
        1
    );
    assert!(
        training::courses_attended(&store, &trainer)
            .await
            .unwrap()
            .is_empty()
    );
    let (c, exercises, participants) = training::course_of(&store, &id).await.unwrap().unwrap();
    assert_eq!((c.level, c.place.as_str()), (Level::Participant, "Almaty"));
    assert_eq!(exercises, course.exercises, "seeds above i64::MAX survive");
    assert_eq!(participants.len(), 2);
    // Enrolment put p1 in the programme as a participant, and left p2 a trainer.
    let p1_person = training::person_of(&store, &p1).await.unwrap().unwrap();
    assert_eq!(
        (p1_person.level, p1_person.country.as_str()),
        (Level::Participant, "KZ")
    );

    // Keys: the first one kept stays.
    assert!(
        training::key_of(&store, &id, 1, &p1)
            .await
            .unwrap()
            .is_none()
    );
    training::keep_key(&store, &id, 1, &p1, "first")
        .await
        .unwrap();
    training::keep_key(&store, &id, 1, &p1, "second")
        .await
        .unwrap();
    let (key, opened) = training::key_of(&store, &id, 1, &p1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key, "first");
    assert!(opened > 0);

    // Attempts: each participant's apart; scores kept to a tenth.
    for (user, number, score) in [
        (&p1, 1, 33.3),
        (&p1, 1, 100.0),
        (&p2, 1, 0.0),
        (&p1, 2, 71.25),
    ] {
        training::add_attempt(
            &store,
            user,
            &id,
            number,
            user,
            "text",
            score,
            score >= 60.0,
            "{}",
        )
        .await
        .unwrap();
    }
    let mine = training::attempts(&store, &id, Some(&p1)).await.unwrap();
    assert_eq!(
        mine.iter()
            .map(|a| (a.number, a.score, a.passed))
            .collect::<Vec<_>>(),
        [(1, 33.3, false), (1, 100.0, true), (2, 71.3, true)]
    );
    assert!(mine.iter().all(|a| a.user_id == p1 && a.seconds_spent >= 0));
    assert_eq!(
        training::attempts(&store, &id, None).await.unwrap().len(),
        4
    );

    // Certificates raise the level, name the trainer, and never lower a level.
    training::certify(
        &store,
        &trainer,
        &c,
        &p1,
        "KZ",
        &format!("C1{run}"),
        "{}",
        "2026-12-04",
        "2029-12-04",
    )
    .await
    .unwrap();
    training::certify(
        &store,
        &trainer,
        &c,
        &p2,
        "KG",
        &format!("C2{run}"),
        "{}",
        "2026-12-04",
        "2029-12-04",
    )
    .await
    .unwrap();
    let p1_person = training::person_of(&store, &p1).await.unwrap().unwrap();
    assert_eq!(p1_person.trained_by, Some(format!("mt.{run}")));
    assert_eq!(p1_person.accredited_on.as_deref(), Some("2026-12-04"));
    let p2_person = training::person_of(&store, &p2).await.unwrap().unwrap();
    assert_eq!(p2_person.level, Level::Trainer);
    let issued = training::certificates(&store, Some(&id), None)
        .await
        .unwrap();
    assert_eq!(issued.len(), 2);
    assert!(
        issued
            .iter()
            .all(|k| k.trainer_login == format!("mt.{run}"))
    );
    let mine = training::certificates(&store, None, Some(&p1))
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].code, format!("C1{run}"));
    let one = training::certificate_of(&store, &format!("C2{run}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (one.country.as_str(), one.login.clone()),
        ("KG", format!("p2.{run}"))
    );
    assert!(
        training::certificate_of(&store, "NOPE")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        training::certify(
            &store,
            &trainer,
            &c,
            &p1,
            "KZ",
            &format!("C1{run}"),
            "{}",
            "2026-12-04",
            "2029-12-04"
        )
        .await
        .is_err(),
        "a code is issued once"
    );

    // The secret is made once.
    let secret = training::programme_secret(&store).await.unwrap();
    assert_eq!(secret.len(), 32);
    assert_eq!(training::programme_secret(&store).await.unwrap(), secret);
    assert!(audit::verify(&store, None, &[]).await.unwrap().intact());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_training_records() {
    let dir = tempfile::tempdir().unwrap();
    scenario(&format!("sqlite://{}", dir.path().join("mtp.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: SMARTBORDER_TEST_POSTGRES_URL (.ci/run starts a cluster)"]
async fn postgres_training_records() {
    let url = std::env::var("SMARTBORDER_TEST_POSTGRES_URL")
        .expect("SMARTBORDER_TEST_POSTGRES_URL names a database (.ci/run starts one)");
    scenario(&url).await;
}

//! The words of the interface, French first, English complete. A `Text` table per language: the compiler
//! refuses a language with a missing string.

/// An interface language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// French, the default.
    Fr,
    /// English.
    En,
}

const SAVED: &str = "cartable.lang";

impl Lang {
    /// The language to start with: the page's option, else the pupil's last choice, else the first of the
    /// browser's languages that is French or English, else French.
    pub fn choose(option: Option<&str>) -> Lang {
        let saved = || web_sys::window()?.local_storage().ok()??.get_item(SAVED).ok()?;
        let chosen = option.map(str::to_owned).or_else(saved).and_then(|tag| Lang::from_tag(&tag));
        chosen.or_else(Lang::from_browser).unwrap_or(Lang::Fr)
    }

    fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    fn from_browser() -> Option<Lang> {
        let languages = web_sys::window()?.navigator().languages();
        languages.iter().find_map(|tag| Lang::from_tag(&tag.as_string()?))
    }

    /// Names the document's language (`<html lang>`), so that screen readers and hyphenation follow it.
    pub fn apply_to_document(self) {
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("lang", self.tag());
        }
    }

    /// Remembers the pupil's choice for the next visit.
    pub fn save(self) {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(SAVED, self.tag());
        }
    }

    /// The BCP 47 tag, for `lang` attributes and date formatting.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// The interface strings in this language.
    pub fn text(self) -> &'static Text {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

/// Every string the interface shows.
#[allow(missing_docs)]
pub struct Text {
    pub loading_course: &'static str,
    pub loading_file: &'static str,
    pub home: &'static str,
    pub agenda: &'static str,
    pub lessons: &'static str,
    pub class: &'static str,
    pub teacher: &'static str,
    pub version_of: &'static str,
    pub due: &'static str,
    pub subject: &'static str,
    pub task: &'static str,
    pub attachments: &'static str,
    pub no_homework: &'static str,
    pub next_homework: &'static str,
    pub no_such_lesson: &'static str,
    pub unverified_title: &'static str,
    pub unverified_body: &'static str,
    pub rollback_body: &'static str,
    pub expired_title: &'static str,
    pub expired_body: &'static str,
    pub corrupted_title: &'static str,
    pub corrupted_body: &'static str,
    pub unreachable_title: &'static str,
    pub unreachable_body: &'static str,
    pub missing_title: &'static str,
    pub no_webcrypto_title: &'static str,
    pub no_webcrypto_body: &'static str,
    pub retry: &'static str,
    pub switch_to: &'static str,
    pub crashed: &'static str,
    pub reload: &'static str,
    pub main_navigation: &'static str,
    pub skip_to_content: &'static str,
    pub offline_banner: &'static str,
    pub save_offline: &'static str,
    pub resume_saving: &'static str,
    pub saving: &'static str,
    pub saved_offline: &'static str,
    pub saved_but_app_not_kept: &'static str,
    pub saved_but_no_worker: &'static str,
    pub save_progress: &'static str,
    pub space_used: &'static str,
    pub storage_full_title: &'static str,
    pub storage_full_body: &'static str,
    pub storage_unavailable: &'static str,
    pub offline_section: &'static str,
    pub new_version: &'static str,
    pub newer_from_classmate: &'static str,
    pub show_newer: &'static str,
    pub reload_now: &'static str,
    pub storage_unavailable_title: &'static str,
    pub part_unloaded_title: &'static str,
    pub part_unloaded_body: &'static str,
    pub origin_saturated_mirror: &'static str,
    pub origin_down_mirror: &'static str,
    pub origin_saturated_wait: &'static str,
    pub origin_saturated_peers: &'static str,
    pub origin_down_peers: &'static str,
    pub origin_saturated_both: &'static str,
    pub origin_down_both: &'static str,
    pub sources_title: &'static str,
    pub source_origin: &'static str,
    pub source_mirror: &'static str,
    pub source_line: &'static str,
    pub source_banned: &'static str,
    pub source_resting: &'static str,
    pub source_peers: &'static str,
    pub peers_line: &'static str,
    pub peers_banned_corrupt: &'static str,
    pub peers_banned_protocol: &'static str,
    pub copy_damaged: &'static str,
    pub peers_privacy: &'static str,
    pub peers_privacy_relayed: &'static str,
    pub peers_switch: &'static str,
    pub peers_switch_later: &'static str,
    pub peers_off_school: &'static str,
    pub peers_off_pupil: &'static str,
    pub exercises: &'static str,
    pub exercises_of: &'static str,
    pub back_to_lesson: &'static str,
    pub no_exercises: &'static str,
    pub check: &'static str,
    pub keep_answer: &'static str,
    pub your_answer: &'static str,
    pub in_unit: &'static str,
    pub move_up: &'static str,
    pub move_down: &'static str,
    pub graded_correct: &'static str,
    pub graded_partial: &'static str,
    pub graded_incorrect: &'static str,
    pub graded_kept: &'static str,
    pub unread_empty: &'static str,
    pub unread_number: &'static str,
    pub unread_other: &'static str,
    pub explanation: &'static str,
    pub attempts: &'static str,
    pub progress_line: &'static str,
    pub progress_none: &'static str,
    pub progress_not_kept: &'static str,
    pub answers_sent_as: &'static str,
    pub answers_kept_here: &'static str,
    pub work: &'static str,
    pub work_intro: &'static str,
    pub work_student: &'static str,
    pub work_title: &'static str,
    pub work_text: &'static str,
    pub work_files: &'static str,
    pub work_hand_in: &'static str,
    pub work_saving: &'static str,
    pub work_saved: &'static str,
    pub work_send_now: &'static str,
    pub work_items: &'static str,
    pub work_none: &'static str,
    pub work_pending: &'static str,
    pub work_sending: &'static str,
    pub work_sent: &'static str,
    pub work_refused: &'static str,
    pub work_local_receipt: &'static str,
    pub work_need_name: &'static str,
    pub work_need_title: &'static str,
    pub work_too_big: &'static str,
    pub work_too_many: &'static str,
    pub work_not_saved: &'static str,
}

const FR: Text = Text {
    loading_course: "Chargement du cours…",
    loading_file: "Chargement…",
    home: "Accueil",
    agenda: "Cahier de textes",
    lessons: "Leçons",
    class: "Classe",
    teacher: "Professeur",
    version_of: "Version publiée le",
    due: "Pour le",
    subject: "Matière",
    task: "Travail à faire",
    attachments: "Pièces jointes",
    no_homework: "Aucun devoir pour le moment.",
    next_homework: "Prochains devoirs",
    no_such_lesson: "Cette leçon n'existe pas.",
    unverified_title: "Ce cours n'a pas pu être vérifié",
    unverified_body: "Il ne porte pas une signature valide de votre établissement : rien n'en a été affiché. Prévenez votre professeur.",
    rollback_body: "Le serveur propose une version plus ancienne que celle que vous avez déjà reçue : elle a été refusée.",
    expired_title: "Ce cours a expiré",
    expired_body: "La version publiée a expiré le {date}. Demandez à votre professeur de la publier à nouveau.",
    corrupted_title: "Un fichier est corrompu",
    corrupted_body: "« {path} » ne correspond pas à ce que l'établissement a publié : il n'a pas été affiché. Réessayez plus tard.",
    unreachable_title: "Le serveur ne répond pas",
    unreachable_body: "Le serveur de l'école ne répond pas pour le moment. Vérifiez votre connexion, puis réessayez dans quelques minutes.",
    missing_title: "Fichier introuvable dans ce cours",
    no_webcrypto_title: "Ce navigateur ne peut pas vérifier les fichiers",
    no_webcrypto_body: "Ouvrez le cours par une adresse https, ou avec un navigateur à jour.",
    retry: "Réessayer",
    switch_to: "English",
    crashed: "cartable a rencontré une erreur.",
    reload: "Recharger la page",
    main_navigation: "Navigation du cours",
    skip_to_content: "Aller au contenu",
    offline_banner: "Hors ligne : copie du {date}.",
    save_offline: "Enregistrer pour consulter hors ligne",
    resume_saving: "Reprendre l'enregistrement",
    saving: "Enregistrement…",
    saved_offline: "Ce cours est disponible hors ligne.",
    saved_but_app_not_kept: "Le cours est enregistré sur cet appareil, mais l'application pas encore : rouvrez cette page une fois connecté pour pouvoir l'ouvrir sans connexion.",
    saved_but_no_worker: "Le cours est enregistré, mais l'application ne peut pas être gardée sur cet appareil pour s'ouvrir sans connexion (navigation privée, ou site qui ne le prévoit pas).",
    save_progress: "{bytes} sur {total} · {files} fichiers sur {all}",
    space_used: "Espace utilisé par cartable : {used} (disponible pour ce site : {quota}).",
    storage_full_title: "L'espace de stockage est plein",
    storage_full_body: "Le navigateur n'a plus de place pour ce cours. Ce qui était déjà enregistré reste utilisable ; libérez de l'espace puis réessayez.",
    storage_unavailable: "Ce navigateur ne permet pas d'enregistrer le cours (navigation privée ?) : il reste consultable en ligne.",
    offline_section: "Hors ligne",
    new_version: "Une nouvelle version de cartable est prête.",
    newer_from_classmate: "Une version plus récente du cours vous est parvenue par un camarade.",
    show_newer: "L'afficher",
    reload_now: "Recharger",
    storage_unavailable_title: "Impossible d'enregistrer le cours",
    part_unloaded_title: "Cette page n'est pas encore sur cet appareil",
    part_unloaded_body: "Cette partie de l'application n'a pas encore été enregistrée sur cet appareil et le réseau ne répond pas. Reconnectez-vous, puis réessayez : une fois ouverte, elle fonctionnera aussi hors ligne.",
    origin_saturated_mirror: "Le serveur de l'école est saturé : vos cours arrivent par un miroir.",
    origin_down_mirror: "Le serveur de l'école ne répond pas : vos cours arrivent par un miroir.",
    origin_saturated_wait: "Le serveur de l'école est saturé : cartable réessaie sans le surcharger, les fichiers arrivent dès qu'il répond.",
    origin_saturated_peers: "Le serveur de l'école est saturé : vos cours arrivent par vos camarades.",
    origin_down_peers: "Le serveur de l'école ne répond pas : vos cours arrivent par vos camarades.",
    origin_saturated_both: "Le serveur de l'école est saturé : vos cours arrivent par un miroir et par vos camarades.",
    origin_down_both: "Le serveur de l'école ne répond pas : vos cours arrivent par un miroir et par vos camarades.",
    sources_title: "D'où viennent les fichiers",
    source_origin: "Serveur de l'école",
    source_mirror: "Miroir",
    source_line: "{bytes} reçus · {requests} demandes",
    source_banned: "écarté : a envoyé des données corrompues",
    source_resting: "en pause : ne répond pas ou refuse",
    source_peers: "Camarades",
    peers_line: "{bytes} reçus · {sent} envoyés · {peers} connectés",
    peers_banned_corrupt: "{count} écartés : ont envoyé des données corrompues",
    peers_banned_protocol: "{count} écartés : n'ont pas respecté le protocole d'échange",
    copy_damaged: "Votre copie du cours était abîmée sur cet appareil : {count} parties ont été retirées, enregistrez le cours de nouveau.",
    peers_privacy: "Les camarades connectés voient l'adresse réseau de cet appareil et les parties du cours qu'il possède, jamais vos réponses ni votre nom.",
    peers_privacy_relayed: "Les camarades connectés voient les parties du cours que possède cet appareil, mais pas son adresse réseau (tout passe par le relais de l'établissement), ni vos réponses ni votre nom.",
    peers_switch: "Partager avec mes camarades",
    peers_switch_later: "Le changement s'appliquera à la prochaine ouverture de la page.",
    peers_off_school: "L'établissement n'a pas activé le partage entre camarades.",
    peers_off_pupil: "vous avez désactivé le partage sur cet appareil.",
    exercises: "Exercices",
    exercises_of: "Exercices de la leçon",
    back_to_lesson: "← Revenir à la leçon",
    no_exercises: "Cette leçon n'a pas d'exercices.",
    check: "Vérifier",
    keep_answer: "Garder ma réponse",
    your_answer: "Votre réponse",
    in_unit: "en {unit}",
    move_up: "Monter",
    move_down: "Descendre",
    graded_correct: "Juste !",
    graded_partial: "C'est juste, mais il manque des réponses.",
    graded_incorrect: "Ce n'est pas ça. Réessayez.",
    graded_kept: "Réponse gardée pour le professeur.",
    unread_empty: "Répondez avant de vérifier.",
    unread_number: "Écrivez un nombre, par exemple 3,5.",
    unread_other: "Cette réponse ne correspond pas à la question.",
    explanation: "Explication :",
    attempts: "Tentatives : {n}",
    progress_line: "{answered}/{total} questions faites · justes : {correct} · tentatives : {attempts}",
    progress_none: "à faire",
    progress_not_kept: "Ce navigateur n'a pas pu garder votre réponse : elle sera perdue en quittant la page.",
    answers_sent_as: "Vos réponses partent aussi à votre professeur, au nom de « {name} ». Le suivi de l'envoi :",
    answers_kept_here: "Vos réponses restent sur cet appareil. Pour qu'elles partent aussi à votre professeur, indiquez votre nom dans",
    work: "Mon travail",
    work_intro: "Ce que tu rends est d'abord enregistré sur cet appareil, puis envoyé à l'établissement dès qu'il répond, même après avoir fermé la page.",
    work_student: "Ton nom",
    work_title: "Titre du devoir",
    work_text: "Ton texte",
    work_files: "Fichiers joints (10 Mo au total au plus, 10 fichiers au plus)",
    work_hand_in: "Rendre",
    work_saving: "Enregistrement…",
    work_saved: "Enregistré sur cet appareil. Reçu local {key}, {time}.",
    work_send_now: "Envoyer maintenant",
    work_items: "Travaux rendus",
    work_none: "Rien de rendu pour l'instant.",
    work_pending: "En attente d'envoi",
    work_sending: "Envoi…",
    work_sent: "Envoyé : reçu n° {id} de l'établissement, {time}",
    work_refused: "Refusé par l'établissement : {reason}",
    work_local_receipt: "reçu local {key}, {time}",
    work_need_name: "Écris ton nom avant de rendre ton travail.",
    work_need_title: "Donne un titre à ton devoir.",
    work_too_big: "Les fichiers pèsent plus de 10 Mo ensemble : retire ou réduis-en.",
    work_too_many: "10 fichiers au plus par devoir.",
    work_not_saved: "Ce travail n'a pas pu être enregistré sur cet appareil : {error}",
};

const EN: Text = Text {
    loading_course: "Loading the course…",
    loading_file: "Loading…",
    home: "Home",
    agenda: "Homework",
    lessons: "Lessons",
    class: "Class",
    teacher: "Teacher",
    version_of: "Version published on",
    due: "Due",
    subject: "Subject",
    task: "Task",
    attachments: "Attachments",
    no_homework: "No homework for now.",
    next_homework: "Next homework",
    no_such_lesson: "This lesson does not exist.",
    unverified_title: "This course could not be verified",
    unverified_body:
        "It does not carry a valid signature from your school, so nothing of it was shown. Tell your teacher.",
    rollback_body: "The server offers an older version than the one you already have: it was refused.",
    expired_title: "This course has expired",
    expired_body: "The published version expired on {date}. Ask your teacher to publish it again.",
    corrupted_title: "A file is corrupted",
    corrupted_body: "“{path}” does not match what your school published, so it was not shown. Try again later.",
    unreachable_title: "The server does not answer",
    unreachable_body:
        "The school's server does not answer right now. Check your connection, then try again in a few minutes.",
    missing_title: "File not found in this course",
    no_webcrypto_title: "This browser cannot verify files",
    no_webcrypto_body: "Open the course through an https address, or with an up-to-date browser.",
    retry: "Try again",
    switch_to: "Français",
    crashed: "cartable ran into an error.",
    reload: "Reload the page",
    main_navigation: "Course navigation",
    skip_to_content: "Skip to content",
    offline_banner: "Offline: copy from {date}.",
    save_offline: "Save for offline use",
    resume_saving: "Resume saving",
    saving: "Saving…",
    saved_offline: "This course is available offline.",
    saved_but_app_not_kept: "The course is saved on this device, but the app is not yet: open this page once more while connected to open it without a connection.",
    saved_but_no_worker: "The course is saved, but the app cannot be kept on this device to open without a connection (private browsing, or a site that does not provide for it).",
    save_progress: "{bytes} of {total} · {files} of {all} files",
    space_used: "Space used by cartable: {used} (available to this site: {quota}).",
    storage_full_title: "Storage is full",
    storage_full_body: "The browser has no room left for this course. What was already saved still works; free some space, then try again.",
    storage_unavailable: "This browser does not allow saving the course (private browsing?): it can still be read online.",
    offline_section: "Offline",
    new_version: "A new version of cartable is ready.",
    newer_from_classmate: "A newer version of the course reached you through a classmate.",
    show_newer: "Show it",
    reload_now: "Reload",
    storage_unavailable_title: "The course cannot be saved",
    part_unloaded_title: "This page is not on this device yet",
    part_unloaded_body: "This part of the app has not been saved on this device yet and the network does not answer. Connect again, then try again: once opened, it works offline too.",
    origin_saturated_mirror: "The school's server is overloaded: your courses are coming from a mirror.",
    origin_down_mirror: "The school's server is not answering: your courses are coming from a mirror.",
    origin_saturated_wait: "The school's server is overloaded: cartable tries again without overloading it; files arrive as soon as it answers.",
    origin_saturated_peers: "The school's server is overloaded: your courses are coming from your classmates.",
    origin_down_peers: "The school's server is not answering: your courses are coming from your classmates.",
    origin_saturated_both: "The school's server is overloaded: your courses are coming from a mirror and your classmates.",
    origin_down_both: "The school's server is not answering: your courses are coming from a mirror and your classmates.",
    sources_title: "Where the files come from",
    source_origin: "School server",
    source_mirror: "Mirror",
    source_line: "{bytes} received · {requests} requests",
    source_banned: "set aside: it sent corrupted data",
    source_resting: "paused: not answering or refusing",
    source_peers: "Classmates",
    peers_line: "{bytes} received · {sent} sent · {peers} connected",
    peers_banned_corrupt: "{count} set aside: they sent corrupted data",
    peers_banned_protocol: "{count} set aside: they broke the exchange protocol",
    copy_damaged: "Your copy of the course was damaged on this device: {count} parts were removed; save the course again.",
    peers_privacy: "Connected classmates see this device's network address and which parts of the course it holds, never your answers or your name.",
    peers_privacy_relayed: "Connected classmates see which parts of the course this device holds, but not its network address (everything goes through the school's relay), nor your answers or your name.",
    peers_switch: "Share with my classmates",
    peers_switch_later: "The change applies the next time you open the page.",
    peers_off_school: "Your school has not turned on sharing between classmates.",
    peers_off_pupil: "you turned sharing off on this device.",
    exercises: "Exercises",
    exercises_of: "Exercises for the lesson",
    back_to_lesson: "← Back to the lesson",
    no_exercises: "This lesson has no exercises.",
    check: "Check",
    keep_answer: "Keep my answer",
    your_answer: "Your answer",
    in_unit: "in {unit}",
    move_up: "Move up",
    move_down: "Move down",
    graded_correct: "Right!",
    graded_partial: "Right so far, but some answers are missing.",
    graded_incorrect: "Not quite. Try again.",
    graded_kept: "Answer kept for your teacher.",
    unread_empty: "Answer before checking.",
    unread_number: "Write a number, such as 3.5.",
    unread_other: "This answer does not fit the question.",
    explanation: "Explanation:",
    attempts: "Attempts: {n}",
    progress_line: "{answered}/{total} questions done · right: {correct} · attempts: {attempts}",
    progress_none: "to do",
    progress_not_kept: "This browser could not keep your answer: it will be lost when you leave the page.",
    answers_sent_as: "Your answers also go to your teacher, under the name “{name}”. Follow their sending in",
    answers_kept_here: "Your answers stay on this device. For them to go to your teacher too, give your name in",
    work: "My work",
    work_intro: "What you hand in is first kept on this device, then sent to the school as soon as it answers, even after you close the page.",
    work_student: "Your name",
    work_title: "Title of the work",
    work_text: "Your text",
    work_files: "Attached files (10 MiB in all at most, 10 files at most)",
    work_hand_in: "Hand in",
    work_saving: "Saving…",
    work_saved: "Saved on this device. Local receipt {key}, {time}.",
    work_send_now: "Send now",
    work_items: "Work handed in",
    work_none: "Nothing handed in yet.",
    work_pending: "Waiting to be sent",
    work_sending: "Sending…",
    work_sent: "Sent: school receipt no. {id}, {time}",
    work_refused: "Refused by the school: {reason}",
    work_local_receipt: "local receipt {key}, {time}",
    work_need_name: "Write your name before handing in your work.",
    work_need_title: "Give your work a title.",
    work_too_big: "The files weigh more than 10 MiB together: remove or shrink some.",
    work_too_many: "10 files at most per piece of work.",
    work_not_saved: "This work could not be kept on this device: {error}",
};

/// A calendar date in the reader's language, such as "jeudi 3 décembre 2026" or "Thursday 3 December 2026".
/// Formatted here rather than with `Intl`, whose first use costs a quarter of a second on a slow Chromebook.
pub fn long_date(date: cartable_core::date::Date, lang: Lang) -> String {
    const JOURS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
    const MOIS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (year, month, day) = date.parts();
    let (weekday, month) = (usize::from(date.weekday()), usize::from(month) - 1);
    match lang {
        Lang::Fr => format!(
            "{} {} {} {year}",
            JOURS[weekday],
            if day == 1 { "1er".into() } else { day.to_string() },
            MOIS[month]
        ),
        Lang::En => format!("{} {day} {} {year}", DAYS[weekday], MONTHS[month]),
    }
}

/// A byte count for people, such as "1,4 Mo" or "1.4 MB": tenths, rounded half up. Integers only: the
/// float formatting `{:.1}` would weigh about 8 KB of the app's gzip.
pub fn bytes(count: u64, lang: Lang) -> String {
    let french = lang == Lang::Fr;
    let (tenth, unit) = match count {
        0..=999 => return format!("{count} {}", if french { "o" } else { "B" }),
        1_000..=999_999 => (100, if french { "ko" } else { "kB" }),
        1_000_000..=999_999_999 => (100_000, if french { "Mo" } else { "MB" }),
        _ => (100_000_000, if french { "Go" } else { "GB" }),
    };
    let tenths = count.saturating_add(tenth / 2) / tenth;
    let separator = if french { ',' } else { '.' };
    format!("{}{separator}{} {unit}", tenths / 10, tenths % 10)
}

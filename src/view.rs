//! The Yew components of the app. They show what `course` hands them and never decide trust.

pub mod agenda;
pub mod app;
pub mod error;
pub mod exercise;
pub mod home;
pub mod lesson;
pub mod load;
pub mod nodes;
pub mod offline;
pub mod panic;
pub mod part;
pub mod prerender;
pub mod route;
pub mod sources;
pub mod work;

use std::rc::Rc;

use crate::course::Course;
use crate::i18n::Lang;

/// What every page of a verified course needs: the course and the interface language.
#[derive(Clone)]
pub struct Ctx {
    /// The course, verified.
    pub course: Rc<Course>,
    /// The interface language.
    pub lang: Lang,
}

impl PartialEq for Ctx {
    fn eq(&self, other: &Ctx) -> bool {
        Rc::ptr_eq(&self.course, &other.course) && self.lang == other.lang
    }
}

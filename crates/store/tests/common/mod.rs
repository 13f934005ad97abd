//! Helpers the store's tests share.
#![allow(dead_code)] // each test file uses a part of them

use smartborder_transit::{OfficeRef, Principal, Route, TransitOffice};

pub fn o(s: &str) -> OfficeRef {
    OfficeRef::parse(s).unwrap()
}

pub fn admin(c: &str) -> Principal {
    Principal::Administration { country: c.into() }
}

/// Kazakhstan (departure) > Azerbaijan (transit) > Georgia (destination).
pub fn route() -> Route {
    Route {
        departure: o("KZ000101"),
        transit: vec![TransitOffice {
            office: o("AZ000201"),
            estimated_arrival: None,
        }],
        destination: o("GE000301"),
    }
}

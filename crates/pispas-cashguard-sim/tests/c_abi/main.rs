//! The simulator as the engine sees it: the built cdylib loaded with libloading, called only
//! through the C functions of cglogics.h, with C callbacks registered. One binary, tests run one
//! at a time (the library is one machine per process).

mod callbacks;
mod common;
mod faults;
mod safety;
mod sale;

// tfjs-core's own entry registers no gradients (the @tensorflow/tfjs union package does); the
// fuser trains, so make sure they are registered. One shared package does it for every library
// of this repository, so an install holds one copy of the registrations.
import '@r3d-ts/tfjs-gradients';
